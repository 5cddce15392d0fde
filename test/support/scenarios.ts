// Broker-neutral differential scenarios: each one drives a broker through amqplib and returns a plain
// JSON record of what the client observed, so that Warren's record can be deep-compared with
// RabbitMQ 3.10's (recorded in ./rabbitmq-recorded.json, findings in docs/rabbitmq-behaviour.md).
//
// What a record holds, per labelled step:
//   { ok: <reply fields> }                                   the operation succeeded
//   { closed: 'channel' | 'connection', code, text, method } the server closed the channel/connection;
//                                                            `method` is the class/method id it named
//   { clientError: '...' }                                   amqplib refused locally (nothing was sent)
//   { timeout: true }                                        no reply within OP_TIMEOUT_MS
// Server-generated names are normalised: amq.gen-XXXX -> amq.gen-*, amq.ctag-XXXX -> amq.ctag-*.
//
// Some methods amqplib has no API for (tx.*, channel.flow, basic.qos with prefetch-size, basic.recover
// requeue=false, immediate=true, a second channel.open) are sent through amqplib's own internal
// encoder (Channel.rpc / Connection.sendMethod), and server frames are observed by wrapping the
// connection's frame dispatcher, so that every close reports its exact code, text and class/method.
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, GetMessage, Message, Options } from 'amqplib';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { fileURLToPath } from 'node:url';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Outcome = { [key: string]: Json };
export interface Scenario {
  name: string;
  run: (url: string) => Promise<Outcome>;
}

/** How long one RPC may take before the step is recorded as { timeout: true }. */
const OP_TIMEOUT_MS = 4000;
/** How long to wait for an asynchronous event that should happen (cancel, delivery, deletion). */
const EVENT_TIMEOUT_MS = 2000;
/** How long to watch for an event that should NOT happen (e.g. no basic.cancel is sent). */
const ABSENCE_MS = 300;

// ---------------------------------------------------------------------------------------------
// amqplib internals used to send methods its API lacks, and to see every frame the server sends.

const require = createRequire(import.meta.url);
const amqplibDir = dirname(require.resolve('amqplib'));

interface AmqplibDefs {
  info(id: number): { name: string };
  encodeMethod(id: number, channel: number, fields: object): Buffer;
  [method: string]: unknown;
}
interface AmqplibFrame {
  parseFrame(buf: Buffer, max: number): false | { type: number; channel: number; payload: Buffer; rest: Buffer };
  decodeFrame(f: { type: number; channel: number; payload: Buffer }): RawFrame;
}
const defs = require(join(amqplibDir, 'lib/defs.js')) as AmqplibDefs;
const frames = require(join(amqplibDir, 'lib/frame.js')) as AmqplibFrame;

function methodId(name: string): number {
  const id = defs[name];
  if (typeof id !== 'number') throw new Error(`amqplib has no method ${name}`);
  return id;
}
const M = {
  ChannelOpen: methodId('ChannelOpen'),
  ChannelFlow: methodId('ChannelFlow'),
  ChannelFlowOk: methodId('ChannelFlowOk'),
  TxSelect: methodId('TxSelect'),
  TxSelectOk: methodId('TxSelectOk'),
  TxCommit: methodId('TxCommit'),
  TxCommitOk: methodId('TxCommitOk'),
  TxRollback: methodId('TxRollback'),
  TxRollbackOk: methodId('TxRollbackOk'),
  ConfirmSelect: methodId('ConfirmSelect'),
  ConfirmSelectOk: methodId('ConfirmSelectOk'),
  BasicQos: methodId('BasicQos'),
  BasicQosOk: methodId('BasicQosOk'),
  BasicRecover: methodId('BasicRecover'),
  BasicRecoverOk: methodId('BasicRecoverOk'),
  BasicRecoverAsync: methodId('BasicRecoverAsync'),
  BasicPublish: methodId('BasicPublish'),
  BasicProperties: methodId('BasicProperties'),
  QueueDeclare: methodId('QueueDeclare'),
  QueueDeclareOk: methodId('QueueDeclareOk'),
  ExchangeDeclare: methodId('ExchangeDeclare'),
  ExchangeDeclareOk: methodId('ExchangeDeclareOk'),
  ConnectionStart: methodId('ConnectionStart'),
  ConnectionStartOk: methodId('ConnectionStartOk'),
  ConnectionTune: methodId('ConnectionTune'),
  ConnectionTuneOk: methodId('ConnectionTuneOk'),
  ConnectionOpen: methodId('ConnectionOpen'),
  ConnectionOpenOk: methodId('ConnectionOpenOk'),
  ConnectionClose: methodId('ConnectionClose'),
  ConnectionCloseOk: methodId('ConnectionCloseOk'),
} as const;

interface RawFrame {
  id?: number;
  channel: number;
  fields?: Record<string, unknown>;
}
interface RawConnection {
  accept: (f: RawFrame) => void;
  sendMethod(channel: number, method: number, fields: object): void;
  sendMessage(channel: number, method: number, fields: object, props: number, properties: object, content: Buffer): void;
  stream: { destroy(): void; write(b: Buffer): boolean };
}
/** The parts of amqplib's Channel object below its public API. */
interface ChannelInternals {
  ch: number;
  rpc(method: number, fields: object, expect: number): Promise<Record<string, unknown>>;
}
function internals(ch: Channel): ChannelInternals {
  return ch as unknown as ChannelInternals;
}

/** 'QueueDeclareOk' -> 'queue.declare-ok' */
function kebabMethod(name: string): string {
  const m = /^(Connection|Channel|Exchange|Queue|Basic|Confirm|Tx)(.*)$/.exec(name);
  if (!m) return name;
  return `${m[1]!.toLowerCase()}.${m[2]!.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`;
}
function methodNameOf(id: number): string {
  try {
    return kebabMethod(defs.info(id).name);
  } catch {
    return `${id >>> 16}/${id & 0xffff}`;
  }
}
function closedMethod(classId: number, method: number): string | null {
  return classId === 0 && method === 0 ? null : methodNameOf(classId * 65536 + method);
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

function toJson(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object') {
    const o: { [k: string]: Json } = {};
    for (const k of Object.keys(v as object)) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) o[k] = toJson(x);
    }
    return o;
  }
  return String(v);
}

/** Server-generated names differ per run: match them by pattern, not value. */
function normalise(v: Json): Json {
  if (typeof v === 'string') {
    return v.replace(/amq\.gen-[A-Za-z0-9_-]{22}/g, 'amq.gen-*').replace(/amq\.ctag-[A-Za-z0-9_-]{22}/g, 'amq.ctag-*');
  }
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') {
    const o: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) o[k] = normalise(x);
    return o;
  }
  return v;
}

/** x-death entries carry a wall-clock `time`; keep only that it is there. */
function scrubTimes(v: Json): Json {
  if (Array.isArray(v)) return v.map(scrubTimes);
  if (v !== null && typeof v === 'object') {
    const o: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) o[k] = k === 'time' ? '<time>' : scrubTimes(x);
    return o;
  }
  return v;
}

function msgJson(m: Message | GetMessage | false | null): Json {
  if (m === false) return 'get-empty';
  if (m === null) return null;
  return scrubTimes({ fields: toJson(m.fields), properties: toJson(m.properties), body: m.content.toString('utf8') });
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function timer(ms: number): { promise: Promise<'timeout'>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const promise = new Promise<'timeout'>((resolve) => {
    handle = setTimeout(() => resolve('timeout'), ms);
  });
  return { promise, cancel: () => clearTimeout(handle) };
}

class OpTimeout extends Error {}
/** Thrown after a step timed out: the rest of the scenario would only pile up more timeouts. */
class ScenarioAbort extends Error {}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  const t = timer(ms);
  try {
    const r = await Promise.race([p, t.promise]);
    if (r === 'timeout') throw new OpTimeout(`no reply within ${ms} ms`);
    return r as T;
  } finally {
    t.cancel();
  }
}

// ---------------------------------------------------------------------------------------------
// Session: the connections, channels, frame log and recorded steps of one scenario run.

interface LogEntry {
  conn: string;
  ch: number;
  method: string;
  fields: Record<string, unknown>;
}
interface Conn {
  label: string;
  model: ChannelModel;
  raw: RawConnection;
}
interface Consumer {
  tag: string;
  msgs: Message[];
  cancelled: boolean;
}

function closeJson(e: LogEntry): Json {
  const f = e.fields;
  return {
    closed: e.method === 'connection.close' ? 'connection' : 'channel',
    code: toJson(f['replyCode']),
    text: toJson(f['replyText']),
    method: closedMethod(Number(f['classId'] ?? 0), Number(f['methodId'] ?? 0)),
  };
}

export class Session {
  readonly out: Outcome = {};
  readonly log: LogEntry[] = [];
  private readonly conns: Conn[] = [];
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly url: string,
    readonly prefix: string,
  ) {}

  /** A deterministic entity name unique to this scenario. */
  name(local: string): string {
    return `${this.prefix}.${local}`;
  }
  /** A queue name, deleted when the scenario ends. */
  q(local: string): string {
    const n = this.name(local);
    this.queues.add(n);
    return n;
  }
  /** An exchange name, deleted when the scenario ends. */
  x(local: string): string {
    const n = this.name(local);
    this.exchanges.add(n);
    return n;
  }
  trackQueue(n: string): string {
    this.queues.add(n);
    return n;
  }
  trackExchange(n: string): string {
    this.exchanges.add(n);
    return n;
  }

  async connect(url: string = this.url): Promise<Conn> {
    const model = await connectWithTimeout(url);
    const label = `c${this.conns.length + 1}`;
    const raw = (model as unknown as { connection: RawConnection }).connection;
    model.on('error', () => undefined); // recorded through the frame log instead
    const accept = raw.accept;
    raw.accept = (f: RawFrame) => {
      // Method ids are (class << 16 | method); a content header frame carries just its class id.
      if (f.id !== undefined && f.id >= 0x10000) {
        this.log.push({ conn: label, ch: f.channel, method: methodNameOf(f.id), fields: f.fields ?? {} });
      }
      try {
        accept.call(raw, f);
      } finally {
        this.notify();
      }
    };
    const conn: Conn = { label, model, raw };
    this.conns.push(conn);
    return conn;
  }

  async channel(conn: Conn): Promise<Channel> {
    const ch = await withTimeout(conn.model.createChannel(), OP_TIMEOUT_MS);
    ch.on('error', () => undefined);
    return ch;
  }
  async confirmChannel(conn: Conn): Promise<ConfirmChannel> {
    const ch = await withTimeout(conn.model.createConfirmChannel(), OP_TIMEOUT_MS);
    ch.on('error', () => undefined);
    return ch;
  }
  /** One connection with one channel. */
  async open(): Promise<{ c: Conn; ch: Channel }> {
    const c = await this.connect();
    return { c, ch: await this.channel(c) };
  }

  /** Runs one RPC and records its reply or the close it caused under `label`. */
  async op<T>(label: string, fn: () => Promise<T>, map: (v: T) => Json = toJson, mark: number = this.log.length): Promise<T | undefined> {
    try {
      const v = await withTimeout(Promise.resolve().then(fn), OP_TIMEOUT_MS);
      this.out[label] = { ok: map(v) };
      return v;
    } catch (e) {
      this.out[label] = this.failure(e, mark);
      if (e instanceof OpTimeout) throw new ScenarioAbort(`aborted: '${label}' got no reply within ${OP_TIMEOUT_MS} ms`);
      return undefined;
    }
  }

  /**
   * Runs an operation that has no reply (publish, ack, ...), then a harmless round trip on the same
   * channel (passive declare of amq.direct): the server handles methods in order, so a close
   * caused by the operation arrives before that reply.
   */
  async act(label: string, ch: Channel, action: () => unknown): Promise<void> {
    const mark = this.log.length;
    try {
      action();
    } catch (e) {
      this.out[label] = { clientError: errMessage(e) };
      return;
    }
    await this.op(label, () => ch.checkExchange('amq.direct'), () => true, mark);
  }

  private failure(e: unknown, mark: number): Json {
    for (let i = mark; i < this.log.length; i++) {
      const ev = this.log[i]!;
      if (ev.method === 'channel.close' || ev.method === 'connection.close') return closeJson(ev);
    }
    if (e instanceof OpTimeout) return { timeout: true };
    return { clientError: errMessage(e) };
  }

  /** Starts a consumer whose deliveries are collected; records basic.consume's reply. */
  async consume(label: string, ch: Channel, queue: string, opts?: Options.Consume): Promise<Consumer> {
    const c: Consumer = { tag: '', msgs: [], cancelled: false };
    const ok = await this.op(
      label,
      () =>
        ch.consume(
          queue,
          (m) => {
            if (m === null) c.cancelled = true;
            else c.msgs.push(m);
            this.notify();
          },
          opts,
        ),
      (r) => toJson(r),
    );
    if (ok) c.tag = ok.consumerTag;
    return c;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves true as soon as cond() holds (re-checked on every server frame), false after ms. */
  waitFor(cond: () => boolean, ms: number = EVENT_TIMEOUT_MS): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters.delete(check);
        resolve(cond());
      }, ms);
      const check = (): void => {
        if (cond()) {
          clearTimeout(t);
          this.waiters.delete(check);
          resolve(true);
        }
      };
      this.waiters.add(check);
    });
  }

  /** Waits until `ms` pass with no frame; used only to show that something does NOT happen. */
  async quiet(ms: number = ABSENCE_MS): Promise<void> {
    await this.waitFor(() => false, ms);
  }

  /** Server methods seen since `mark` (optionally on one connection/channel), as names. */
  trace(mark: number, filter?: { conn?: Conn; ch?: Channel; methods?: string[] }): string[] {
    return this.entries(mark, filter).map((e) => e.method);
  }
  entries(mark: number, filter?: { conn?: Conn; ch?: Channel; methods?: string[] }): LogEntry[] {
    return this.log
      .slice(mark)
      .filter(
        (e) =>
          (!filter?.conn || e.conn === filter.conn.label) &&
          (!filter?.ch || e.ch === internals(filter.ch).ch) &&
          (!filter?.methods || filter.methods.includes(e.method)),
      );
  }
  mark(): number {
    return this.log.length;
  }

  /** Does queue q exist (passive declare on a throw-away channel)? */
  async queueExists(conn: Conn, q: string): Promise<Json> {
    return this.exists(conn, (ch) => ch.checkQueue(q));
  }
  async exchangeExists(conn: Conn, x: string): Promise<Json> {
    return this.exists(conn, (ch) => ch.checkExchange(x));
  }
  private async exists(conn: Conn, check: (ch: Channel) => Promise<unknown>): Promise<Json> {
    const mark = this.log.length;
    try {
      const ch = await this.channel(conn);
      await withTimeout(check(ch), OP_TIMEOUT_MS);
      await ch.close();
      return true;
    } catch (e) {
      const f = this.failure(e, mark);
      if (f !== null && typeof f === 'object' && !Array.isArray(f) && f['code'] === 404) return false;
      return f;
    }
  }

  /** Polls (each poll a round trip, 20 ms apart) until `probe` returns `want` or the time is up. */
  async until(probe: () => Promise<Json>, want: Json, ms: number = EVENT_TIMEOUT_MS): Promise<Json> {
    const deadline = Date.now() + ms;
    let last = await probe();
    while (last !== want && Date.now() < deadline) {
      await this.waitFor(() => false, 20);
      last = await probe();
    }
    return last;
  }

  /** Closes every connection, then deletes the scenario's queues and exchanges. */
  async finish(): Promise<void> {
    for (const c of this.conns) await closeQuietly(c);
    if (this.queues.size === 0 && this.exchanges.size === 0) return;
    let model: ChannelModel | undefined;
    try {
      model = await connectWithTimeout(this.url);
      model.on('error', () => undefined);
      let ch: Channel | undefined;
      const fresh = async (): Promise<Channel> => {
        const c = await withTimeout(model!.createChannel(), OP_TIMEOUT_MS);
        c.on('error', () => undefined);
        return c;
      };
      // A delete that fails closes the channel: carry on with a fresh one. One that hangs means
      // the broker is stuck: give up (an OpTimeout escapes to the catch below).
      const tryDelete = async (fn: (c: Channel) => Promise<unknown>): Promise<void> => {
        try {
          ch ??= await fresh();
          await withTimeout(fn(ch), OP_TIMEOUT_MS);
        } catch (e) {
          if (e instanceof OpTimeout) throw e;
          ch = undefined;
        }
      };
      for (const q of this.queues) await tryDelete((c) => c.deleteQueue(q));
      for (const x of this.exchanges) await tryDelete((c) => c.deleteExchange(x));
    } catch {
      // best effort
    } finally {
      if (model) await closeModelQuietly(model);
    }
  }
}

/** amqp.connect with a bound on the whole handshake; a late success is closed again. */
async function connectWithTimeout(url: string): Promise<ChannelModel> {
  // amqplib's `timeout` is a socket idle timeout until the handshake completes: it destroys the
  // socket of a broker that accepts but never answers, so nothing is left holding the process.
  const p = amqp.connect(url, { timeout: OP_TIMEOUT_MS });
  try {
    return await withTimeout(p, OP_TIMEOUT_MS + 1000);
  } catch (e) {
    if (e instanceof OpTimeout) p.then(closeModelQuietly, () => undefined);
    throw e;
  }
}

async function closeModelQuietly(model: ChannelModel): Promise<void> {
  try {
    await withTimeout(model.close(), 2000);
  } catch {
    // already closed by the server, or hung: the socket is destroyed below
  }
  (model as unknown as { connection: RawConnection }).connection.stream.destroy();
}
async function closeQuietly(c: Conn): Promise<void> {
  await closeModelQuietly(c.model);
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function sc(name: string, body: (s: Session) => Promise<void>): Scenario {
  return {
    name,
    run: async (url: string): Promise<Outcome> => {
      const s = new Session(url, `wd.${slug(name)}`);
      try {
        await body(s);
      } catch (e) {
        s.out['scenarioError'] = errMessage(e);
      } finally {
        await s.finish();
      }
      return normalise(s.out) as Outcome;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A bare handshake over a socket, so that a refused login or vhost reports its exact close
// (amqplib folds those into a message without the reply text).

interface HandshakeOptions {
  user?: string;
  password?: string;
  vhost?: string;
  /** Advertise amqplib's client capabilities (authentication_failure_close etc.); default true. */
  capabilities?: boolean;
}

/** What amqplib 2.3.1 advertises (lib/connect.js); RabbitMQ only reports a refused login with a
 *  connection.close when authentication_failure_close is among them. */
const CLIENT_CAPABILITIES = {
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  'basic.nack': true,
  consumer_cancel_notify: true,
  'connection.blocked': true,
  authentication_failure_close: true,
};

async function rawHandshake(url: string, opts: HandshakeOptions): Promise<Json> {
  const u = new URL(url);
  const user = opts.user ?? decodeURIComponent(u.username || 'guest');
  const password = opts.password ?? decodeURIComponent(u.password || 'guest');
  const vhost = opts.vhost ?? (u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/');
  const sock = netConnect({ host: u.hostname, port: Number(u.port || 5672) });
  const t = timer(OP_TIMEOUT_MS);
  const result = new Promise<Json>((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    let stage = 'start';
    const out: { [k: string]: Json } = {};
    const finish = (r: Json): void => {
      resolve(r);
      sock.destroy();
    };
    sock.on('connect', () => sock.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    // ECONNRESET or a clean FIN: either way the server hung up without a connection.close.
    sock.on('error', () => finish({ closedWithoutFrame: true, stage }));
    sock.on('close', () => finish({ closedWithoutFrame: true, stage }));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const parsed = frames.parseFrame(buf, 0);
        if (!parsed) return;
        buf = parsed.rest;
        const f = frames.decodeFrame(parsed);
        const fields = f.fields ?? {};
        if (f.id === M.ConnectionStart) {
          const props = fields['serverProperties'] as Record<string, unknown> | undefined;
          out['capabilities'] = toJson(props?.['capabilities']);
          out['mechanisms'] = toJson(fields['mechanisms']);
          out['locales'] = toJson(fields['locales']);
          stage = 'start-ok';
          sock.write(
            defs.encodeMethod(M.ConnectionStartOk, 0, {
              clientProperties: opts.capabilities === false ? { product: 'warren-differential' } : { product: 'warren-differential', capabilities: CLIENT_CAPABILITIES },
              mechanism: 'PLAIN',
              response: Buffer.from(`\0${user}\0${password}`, 'utf8'),
              locale: 'en_US',
            }),
          );
        } else if (f.id === M.ConnectionTune) {
          out['tune'] = toJson(fields);
          stage = 'open';
          // Echo the server's limits (channel-max 0 = "no limit" is refused by RabbitMQ 3.10).
          sock.write(defs.encodeMethod(M.ConnectionTuneOk, 0, { channelMax: fields['channelMax'], frameMax: fields['frameMax'], heartbeat: 0 }));
          sock.write(defs.encodeMethod(M.ConnectionOpen, 0, { virtualHost: vhost, capabilities: '', insist: false }));
        } else if (f.id === M.ConnectionOpenOk) {
          out['openOk'] = toJson(fields);
          stage = 'close';
          sock.write(defs.encodeMethod(M.ConnectionClose, 0, { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 }));
        } else if (f.id === M.ConnectionCloseOk) {
          finish({ ...out, ok: true });
          return;
        } else if (f.id === M.ConnectionClose) {
          sock.write(defs.encodeMethod(M.ConnectionCloseOk, 0, {}));
          finish({
            stage,
            closed: 'connection',
            code: toJson(fields['replyCode']),
            text: toJson(fields['replyText']),
            method: closedMethod(Number(fields['classId'] ?? 0), Number(fields['methodId'] ?? 0)),
          });
          return;
        }
      }
    });
  });
  try {
    const r = await Promise.race([result, t.promise]);
    return r === 'timeout' ? { timeout: true } : r;
  } finally {
    t.cancel();
    sock.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers used by many scenarios

const B = (s: string): Buffer => Buffer.from(s, 'utf8');
const fakeMsg = (deliveryTag: number): Message => ({ fields: { deliveryTag } }) as unknown as Message;
/** An integer argument with an explicit AMQP field type (amqplib's '!' trapdoor). */
const typed = (type: string, value: unknown): unknown => ({ '!': type, value });

async function declareQ(s: Session, ch: Channel, label: string, q: string, opts: Options.AssertQueue = {}): Promise<void> {
  await s.op(label, () => ch.assertQueue(q, { durable: false, ...opts }));
}

/** Declare q twice with two option sets on fresh channels; records first/second. */
function redeclareQ(name: string, first: Options.AssertQueue, second: Options.AssertQueue, extra?: (s: Session, c: Conn, q: string) => Promise<void>): Scenario {
  return sc(name, async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await s.op('first', () => ch.assertQueue(q, first));
    const ch2 = await s.channel(c);
    await s.op('second', () => ch2.assertQueue(q, second));
    s.out['stillExists'] = await s.queueExists(c, q);
    if (extra) await extra(s, c, q);
  });
}

function redeclareX(name: string, firstType: string, first: Options.AssertExchange, secondType: string, second: Options.AssertExchange): Scenario {
  return sc(name, async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    await s.op('first', () => ch.assertExchange(x, firstType, first));
    const ch2 = await s.channel(c);
    await s.op('second', () => ch2.assertExchange(x, secondType, second));
  });
}

/** One declare-queue attempt with the given arguments. */
function declareWithArgs(name: string, opts: Options.AssertQueue): Scenario {
  return sc(name, async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await s.op('declare', () => ch.assertQueue(q, opts));
    s.out['exists'] = await s.queueExists(c, q);
  });
}

/** c1 owns an exclusive queue; c2 tries `op` on it. */
function exclusiveFromOther(name: string, op: (ch: Channel, q: string, s: Session) => Promise<unknown>): Scenario {
  return sc(name, async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'owner declare', q, { exclusive: true });
    const c2 = await s.connect();
    const ch2 = await s.channel(c2);
    await s.op('other connection', () => op(ch2, q, s));
    s.out['owner still sees it'] = (await s.op('owner passive', () => ch.checkQueue(q))) ? true : false;
  });
}

/** A queue holding `n` ready messages m1..mn, published and confirmed. */
async function fill(s: Session, c: Conn, q: string, n: number, opts: Options.Publish = {}): Promise<void> {
  const cc = await s.confirmChannel(c);
  for (let i = 1; i <= n; i++) cc.sendToQueue(q, B(`m${i}`), opts);
  await withTimeout(cc.waitForConfirms(), OP_TIMEOUT_MS);
  await cc.close();
}

/** Delivers one message to a manual-ack consumer and returns it (to ack/nack it in the scenario). */
async function oneDelivery(s: Session, c: Conn, ch: Channel, q: string, opts: Options.Consume = {}): Promise<Consumer> {
  await declareQ(s, ch, 'declare', q);
  await fill(s, c, q, 1);
  const cons = await s.consume('consume', ch, q, opts);
  s.out['delivered'] = await s.waitFor(() => cons.msgs.length >= 1);
  return cons;
}

function tx(ch: Channel, what: 'select' | 'commit' | 'rollback'): Promise<Record<string, unknown>> {
  const i = internals(ch);
  if (what === 'select') return i.rpc(M.TxSelect, {}, M.TxSelectOk);
  if (what === 'commit') return i.rpc(M.TxCommit, {}, M.TxCommitOk);
  return i.rpc(M.TxRollback, {}, M.TxRollbackOk);
}
function confirmSelect(ch: Channel): Promise<Record<string, unknown>> {
  return internals(ch).rpc(M.ConfirmSelect, { nowait: false }, M.ConfirmSelectOk);
}

/** Bodies of every ready message in q (basic.get no-ack until get-empty). */
async function drain(s: Session, ch: Channel, q: string): Promise<Json> {
  const bodies: Json[] = [];
  const mark = s.mark();
  try {
    for (let i = 0; i < 50; i++) {
      const m = await withTimeout(ch.get(q, { noAck: true }), OP_TIMEOUT_MS);
      if (m === false) break;
      bodies.push(m.content.toString('utf8'));
    }
  } catch (e) {
    const closes = s.entries(mark, { methods: ['channel.close', 'connection.close'] });
    return { drainFailed: closes[0] ? closeJson(closes[0]) : errMessage(e) };
  }
  return bodies;
}

/** Polls the message count of q until it reaches n (or the time is up); returns the last count. */
async function countReaches(s: Session, ch: Channel, q: string, n: number): Promise<Json> {
  return s.until(async () => (await ch.checkQueue(q)).messageCount, n);
}

// ---------------------------------------------------------------------------------------------
// The scenarios

const QUEUE_DECLARE: Scenario[] = [
  sc('queue.declare passive missing', async (s) => {
    const { ch } = await s.open();
    await s.op('passive', () => ch.checkQueue(s.name('nope')));
  }),
  sc('queue.declare passive existing reports counts', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 2);
    await s.op('passive', () => ch.checkQueue(q));
  }),
  sc('queue.declare-ok counts only ready messages', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 3);
    await s.op('prefetch 1', () => ch.prefetch(1));
    const cons = await s.consume('consume', ch, q);
    s.out['got one'] = await s.waitFor(() => cons.msgs.length === 1);
    const ch2 = await s.channel(c);
    await s.op('redeclare', () => ch2.assertQueue(q, { durable: false }));
    await s.op('passive', () => ch2.checkQueue(q));
  }),
  redeclareQ('queue redeclare identical', { durable: false, arguments: { 'x-message-ttl': 1000 } }, { durable: false, arguments: { 'x-message-ttl': 1000 } }),
  redeclareQ('queue redeclare durable true then false', { durable: true }, { durable: false }),
  redeclareQ('queue redeclare durable false then true', { durable: false }, { durable: true }),
  redeclareQ('queue redeclare auto-delete differs', { durable: false, autoDelete: false }, { durable: false, autoDelete: true }),
  redeclareQ('queue redeclare auto-delete true then false', { durable: false, autoDelete: true }, { durable: false, autoDelete: false }),
  redeclareQ('queue redeclare non-exclusive as exclusive', { durable: false }, { durable: false, exclusive: true }),
  redeclareQ('queue redeclare exclusive as non-exclusive same connection', { durable: false, exclusive: true }, { durable: false, exclusive: false }),
  redeclareQ('queue redeclare x-message-ttl differs', { durable: false, messageTtl: 1000 }, { durable: false, messageTtl: 2000 }),
  redeclareQ('queue redeclare adds x-message-ttl', { durable: false }, { durable: false, messageTtl: 2000 }),
  redeclareQ('queue redeclare omits x-message-ttl', { durable: false, messageTtl: 1000 }, { durable: false }),
  redeclareQ(
    'queue redeclare x-message-ttl same value other integer type',
    { durable: false, arguments: { 'x-message-ttl': typed('int', 1000) } },
    { durable: false, arguments: { 'x-message-ttl': typed('long', 1000) } },
  ),
  redeclareQ(
    'queue redeclare x-message-ttl as string',
    { durable: false, arguments: { 'x-message-ttl': 1000 } },
    { durable: false, arguments: { 'x-message-ttl': '1000' } },
  ),
  redeclareQ('queue redeclare x-max-length differs', { durable: false, maxLength: 10 }, { durable: false, maxLength: 20 }),
  redeclareQ('queue redeclare x-expires differs', { durable: false, expires: 60000 }, { durable: false, expires: 120000 }),
  redeclareQ(
    'queue redeclare x-dead-letter-exchange differs',
    { durable: false, deadLetterExchange: 'dlx-a' },
    { durable: false, deadLetterExchange: 'dlx-b' },
  ),
  redeclareQ('queue redeclare classic as quorum', { durable: true }, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
  redeclareQ(
    'queue redeclare explicit classic then no type',
    { durable: true, arguments: { 'x-queue-type': 'classic' } },
    { durable: true },
  ),
  redeclareQ('queue redeclare quorum without x-queue-type', { durable: true, arguments: { 'x-queue-type': 'quorum' } }, { durable: true }),
  redeclareQ(
    'queue redeclare quorum as classic',
    { durable: true, arguments: { 'x-queue-type': 'quorum' } },
    { durable: true, arguments: { 'x-queue-type': 'classic' } },
  ),
  redeclareQ('queue redeclare unknown x-foo differs', { durable: false, arguments: { 'x-foo': 'a' } }, { durable: false, arguments: { 'x-foo': 'b' } }),
  redeclareQ('queue redeclare adds unknown x-foo', { durable: false }, { durable: false, arguments: { 'x-foo': 'b' } }),
  sc('queue redeclare names the field type of each encoding', async (s) => {
    // The 406 text names RabbitMQ's type for the value it received ("the value '7' of type 'X'").
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    for (const t of ['byte', 'unsignedbyte', 'short', 'unsignedshort', 'int', 'unsignedint', 'long', 'timestamp']) {
      const chT = await s.channel(c);
      await s.op(t, () => chT.assertQueue(q, { durable: false, arguments: { 'x-max-length': typed(t, 7) } }));
    }
    for (const [label, v] of [['longstr', '7'], ['bool', true], ['double', 7.5], ['float', typed('float', 7.5)], ['table', { a: 1 }], ['array', [7]], ['void', null], ['binary', B('7')]] as const) {
      const chT = await s.channel(c);
      await s.op(label, () => chT.assertQueue(q, { durable: false, arguments: { 'x-dead-letter-routing-key': v } }));
    }
  }),
  declareWithArgs('queue.declare x-message-ttl string', { durable: false, arguments: { 'x-message-ttl': 'abc' } }),
  declareWithArgs('queue.declare x-message-ttl negative', { durable: false, messageTtl: -1 }),
  declareWithArgs('queue.declare x-message-ttl zero', { durable: false, messageTtl: 0 }),
  declareWithArgs('queue.declare x-message-ttl float', { durable: false, arguments: { 'x-message-ttl': 1.5 } }),
  declareWithArgs('queue.declare x-expires zero', { durable: false, expires: 0 }),
  declareWithArgs('queue.declare x-max-length negative', { durable: false, maxLength: -1 }),
  declareWithArgs('queue.declare x-max-priority too large', { durable: false, maxPriority: 300 }),
  declareWithArgs('queue.declare x-overflow invalid', { durable: false, arguments: { 'x-overflow': 'explode' } }),
  declareWithArgs('queue.declare x-queue-type unknown', { durable: true, arguments: { 'x-queue-type': 'foo' } }),
  declareWithArgs('queue.declare x-dead-letter-exchange missing is fine', { durable: false, deadLetterExchange: 'no-such-dlx' }),
  declareWithArgs('queue.declare unknown x-foo argument', { durable: false, arguments: { 'x-foo': 'bar' } }),
  declareWithArgs('queue.declare quorum non-durable', { durable: false, arguments: { 'x-queue-type': 'quorum' } }),
  declareWithArgs('queue.declare quorum exclusive', { durable: true, exclusive: true, arguments: { 'x-queue-type': 'quorum' } }),
  declareWithArgs('queue.declare quorum auto-delete', { durable: true, autoDelete: true, arguments: { 'x-queue-type': 'quorum' } }),
  sc('queue.declare server-named', async (s) => {
    const { c, ch } = await s.open();
    const r = await s.op('declare', () => ch.assertQueue('', { durable: false }));
    if (r) {
      s.trackQueue(r.queue);
      s.out['matches amq.gen-'] = /^amq\.gen-[A-Za-z0-9_-]{22}$/.test(r.queue);
      s.out['exists'] = await s.queueExists(c, r.queue);
    }
  }),
  sc('queue.declare server-named exclusive', async (s) => {
    const { ch } = await s.open();
    const r = await s.op('declare', () => ch.assertQueue('', { exclusive: true }));
    if (r) s.out['matches amq.gen-'] = /^amq\.gen-[A-Za-z0-9_-]{22}$/.test(r.queue);
  }),
  sc('queue.declare passive with empty name', async (s) => {
    const { ch } = await s.open();
    await s.op('passive', () => ch.checkQueue(''));
  }),
  sc('queue name of 255 bytes', async (s) => {
    const { ch } = await s.open();
    const q = s.trackQueue(`wd.255.${'q'.repeat(248)}`);
    s.out['bytes'] = Buffer.byteLength(q);
    await declareQ(s, ch, 'declare', q);
    await s.op('passive', () => ch.checkQueue(q));
  }),
  sc('queue name of 256 bytes refused by the client', async (s) => {
    const { ch } = await s.open();
    const q = `wd.256.${'q'.repeat(249)}`;
    s.out['bytes'] = Buffer.byteLength(q);
    await declareQ(s, ch, 'declare', q);
  }),
  sc('queue name with multi-byte utf-8', async (s) => {
    const { ch } = await s.open();
    const q = s.q('ñ-キュー-é');
    await declareQ(s, ch, 'declare', q);
    await s.op('passive', () => ch.checkQueue(q));
  }),
  sc('queue name with CR LF', async (s) => {
    const { c, ch } = await s.open();
    const q = s.name('a\r\nb');
    s.trackQueue(q);
    s.trackQueue(s.name('ab'));
    await declareQ(s, ch, 'declare', q);
    s.out['exists with CRLF'] = await s.queueExists(c, q);
    s.out['exists stripped'] = await s.queueExists(c, s.name('ab'));
  }),
  sc('queue.declare amq. prefixed name', async (s) => {
    const { ch } = await s.open();
    await declareQ(s, ch, 'declare', 'amq.wd-test');
  }),
  sc('queue.declare amq.gen- name chosen by client', async (s) => {
    const { ch } = await s.open();
    await declareQ(s, ch, 'declare', 'amq.gen-byclient');
  }),
  sc('queue.declare passive amq. prefixed missing', async (s) => {
    const { ch } = await s.open();
    await s.op('passive', () => ch.checkQueue('amq.wd-test'));
  }),
];

const EXCLUSIVE: Scenario[] = [
  exclusiveFromOther('exclusive queue declare from other connection', (ch, q) => ch.assertQueue(q, { durable: false, exclusive: true })),
  exclusiveFromOther('exclusive queue non-exclusive declare from other connection', (ch, q) => ch.assertQueue(q, { durable: false })),
  exclusiveFromOther('exclusive queue passive declare from other connection', (ch, q) => ch.checkQueue(q)),
  exclusiveFromOther('exclusive queue bind from other connection', (ch, q) => ch.bindQueue(q, 'amq.direct', 'k')),
  exclusiveFromOther('exclusive queue unbind from other connection', (ch, q) => ch.unbindQueue(q, 'amq.direct', 'k')),
  exclusiveFromOther('exclusive queue consume from other connection', (ch, q) => ch.consume(q, () => undefined)),
  exclusiveFromOther('exclusive queue delete from other connection', (ch, q) => ch.deleteQueue(q)),
  exclusiveFromOther('exclusive queue purge from other connection', (ch, q) => ch.purgeQueue(q)),
  exclusiveFromOther('exclusive queue get from other connection', (ch, q) => ch.get(q)),
  sc('exclusive queue publish from other connection', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { exclusive: true });
    const c2 = await s.connect();
    const cc = await s.confirmChannel(c2);
    await s.op('publish confirmed', async () => {
      cc.sendToQueue(q, B('hi'));
      await cc.waitForConfirms();
      return true;
    });
    await s.op('owner get', () => ch.get(q, { noAck: true }), msgJson);
  }),
  sc('exclusive queue gone after owner closes', async (s) => {
    const c1 = await s.connect();
    const ch = await s.channel(c1);
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { exclusive: true });
    await c1.model.close();
    const c2 = await s.connect();
    s.out['exists after owner closed'] = await s.until(() => s.queueExists(c2, q), false);
  }),
];

const EXCHANGES: Scenario[] = [
  sc('exchange.declare unknown type', async (s) => {
    const { ch } = await s.open();
    await s.op('declare', () => ch.assertExchange(s.x('x'), 'x-no-such-type', { durable: false }));
  }),
  sc('exchange.declare empty type', async (s) => {
    const { ch } = await s.open();
    await s.op('declare', () => ch.assertExchange(s.x('x'), '', { durable: false }));
  }),
  sc('exchange.declare passive ignores type and flags', async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'topic', { durable: false }));
    const ch2 = await s.channel(c);
    await s.op('passive with other type', () =>
      internals(ch2).rpc(M.ExchangeDeclare, { exchange: x, type: 'fanout', passive: true, durable: true, autoDelete: true, internal: true, nowait: false, arguments: {}, ticket: 0 }, M.ExchangeDeclareOk),
    );
  }),
  sc('queue.declare passive ignores flags and arguments', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { messageTtl: 1000 });
    const ch2 = await s.channel(c);
    await s.op('passive with other flags', () =>
      internals(ch2).rpc(M.QueueDeclare, { queue: q, passive: true, durable: true, exclusive: false, autoDelete: true, nowait: false, arguments: { 'x-message-ttl': 5 }, ticket: 0 }, M.QueueDeclareOk),
    );
  }),
  sc('exchange.declare type match', async (s) => {
    const { ch } = await s.open();
    await s.op('declare', () => ch.assertExchange(s.x('x'), 'match', { durable: false }));
  }),
  redeclareX('exchange redeclare identical', 'direct', { durable: false }, 'direct', { durable: false }),
  redeclareX('exchange redeclare different type', 'direct', { durable: false }, 'fanout', { durable: false }),
  redeclareX('exchange redeclare different durable', 'direct', { durable: true }, 'direct', { durable: false }),
  redeclareX('exchange redeclare different auto-delete', 'direct', { durable: false }, 'direct', { durable: false, autoDelete: true }),
  redeclareX('exchange redeclare different internal', 'direct', { durable: false }, 'direct', { durable: false, internal: true }),
  redeclareX(
    'exchange redeclare different alternate-exchange',
    'direct',
    { durable: false, alternateExchange: 'ae1' },
    'direct',
    { durable: false, alternateExchange: 'ae2' },
  ),
  sc('exchange.declare passive missing', async (s) => {
    const { ch } = await s.open();
    await s.op('passive', () => ch.checkExchange(s.name('nope')));
  }),
  sc('exchange.declare passive existing', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'topic', { durable: false }));
    await s.op('passive', () => ch.checkExchange(x));
  }),
  sc('exchange.declare amq. prefixed name', async (s) => {
    const { ch } = await s.open();
    await s.op('declare', () => ch.assertExchange('amq.wd-test', 'direct', { durable: false }));
  }),
  sc('exchange.declare passive amq. prefixed missing', async (s) => {
    const { ch } = await s.open();
    await s.op('passive', () => ch.checkExchange('amq.wd-test'));
  }),
  sc('exchange.declare amq.direct with its own properties', async (s) => {
    const { ch } = await s.open();
    await s.op('declare', () => ch.assertExchange('amq.direct', 'direct', { durable: true }));
  }),
  sc('exchange.declare amq.direct with other type', async (s) => {
    const { ch } = await s.open();
    await s.op('declare', () => ch.assertExchange('amq.direct', 'fanout', { durable: true }));
  }),
  sc('exchange.declare passive builtins', async (s) => {
    const { c } = await s.open();
    for (const x of ['amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match', 'amq.rabbitmq.trace', 'amq.default']) {
      s.out[x] = await s.exchangeExists(c, x);
    }
  }),
  sc('exchange.declare default exchange', async (s) => {
    const { ch } = await s.open();
    await s.op('declare', () => ch.assertExchange('', 'direct', { durable: true }));
  }),
  sc('exchange.declare passive default exchange', async (s) => {
    const { ch } = await s.open();
    await s.op('passive', () => ch.checkExchange(''));
  }),
  sc('exchange.delete default exchange', async (s) => {
    const { ch } = await s.open();
    await s.op('delete', () => ch.deleteExchange(''));
  }),
  sc('exchange.delete amq.direct', async (s) => {
    const { c, ch } = await s.open();
    await s.op('delete', () => ch.deleteExchange('amq.direct'));
    s.out['amq.direct exists'] = await s.exchangeExists(c, 'amq.direct');
  }),
  sc('exchange.delete if-unused when bound to a queue', async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    const q = s.q('q');
    await s.op('declare x', () => ch.assertExchange(x, 'direct', { durable: false }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind', () => ch.bindQueue(q, x, 'k'));
    await s.op('delete if-unused', () => ch.deleteExchange(x, { ifUnused: true }));
    s.out['exists'] = await s.exchangeExists(c, x);
  }),
  sc('exchange.delete if-unused when it is only a binding destination', async (s) => {
    const { c, ch } = await s.open();
    const src = s.x('src');
    const dst = s.x('dst');
    await s.op('declare src', () => ch.assertExchange(src, 'direct', { durable: false }));
    await s.op('declare dst', () => ch.assertExchange(dst, 'direct', { durable: false }));
    await s.op('bind', () => ch.bindExchange(dst, src, 'k'));
    await s.op('delete dst if-unused', () => ch.deleteExchange(dst, { ifUnused: true }));
    s.out['dst exists'] = await s.exchangeExists(c, dst);
  }),
  sc('exchange.delete if-unused when unbound', async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'direct', { durable: false }));
    await s.op('delete if-unused', () => ch.deleteExchange(x, { ifUnused: true }));
    s.out['exists'] = await s.exchangeExists(c, x);
  }),
  sc('exchange.delete missing', async (s) => {
    const { ch } = await s.open();
    await s.op('delete', () => ch.deleteExchange(s.name('nope')));
    await s.op('delete if-unused', () => ch.deleteExchange(s.name('nope'), { ifUnused: true }));
  }),
  sc('exchange.delete removes bindings both ways', async (s) => {
    const { c, ch } = await s.open();
    const a = s.x('a');
    const b = s.x('b');
    const q = s.q('q');
    await s.op('declare a', () => ch.assertExchange(a, 'fanout', { durable: false }));
    await s.op('declare b', () => ch.assertExchange(b, 'fanout', { durable: false }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind b->a', () => ch.bindExchange(b, a, ''));
    await s.op('bind q->b', () => ch.bindQueue(q, b, ''));
    await s.op('delete b', () => ch.deleteExchange(b));
    await s.op('redeclare b', () => ch.assertExchange(b, 'fanout', { durable: false }));
    await fill(s, c, q, 0);
    const cc = await s.confirmChannel(c);
    await s.op('publish via a', async () => {
      cc.publish(a, '', B('through a'));
      await cc.waitForConfirms();
      return true;
    });
    await s.op('queue has', () => ch.checkQueue(q));
  }),
];

const PUBLISH: Scenario[] = [
  sc('publish to missing exchange', async (s) => {
    const { ch } = await s.open();
    await s.act('publish', ch, () => ch.publish(s.name('nope'), 'k', B('x')));
  }),
  sc('publish to missing exchange in confirm mode', async (s) => {
    const c = await s.connect();
    const cc = await s.confirmChannel(c);
    const mark = s.mark();
    let cb: Json = 'no callback';
    await s.act('publish', cc, () => cc.publish(s.name('nope'), 'k', B('x'), {}, (err) => (cb = err ? 'error' : 'ack')));
    await s.waitFor(() => cb !== 'no callback', ABSENCE_MS);
    s.out['confirm callback'] = cb;
    s.out['trace'] = s.trace(mark, { methods: ['basic.ack', 'basic.nack', 'channel.close'] });
  }),
  sc('publish to internal exchange', async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    await s.op('declare internal', () => ch.assertExchange(x, 'fanout', { durable: false, internal: true }));
    const ch2 = await s.channel(c);
    await s.act('publish', ch2, () => ch2.publish(x, '', B('x')));
  }),
  sc('publish to internal exchange via exchange binding', async (s) => {
    const { ch } = await s.open();
    const pub = s.x('pub');
    const internal = s.x('internal');
    const q = s.q('q');
    await s.op('declare internal', () => ch.assertExchange(internal, 'fanout', { durable: false, internal: true }));
    await s.op('declare pub', () => ch.assertExchange(pub, 'fanout', { durable: false }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind internal<-pub', () => ch.bindExchange(internal, pub, ''));
    await s.op('bind q<-internal', () => ch.bindQueue(q, internal, ''));
    await s.act('publish', ch, () => ch.publish(pub, '', B('via')));
    s.out['queue'] = await drain(s, ch, q);
  }),
  sc('publish to amq.default', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish', ch, () => ch.publish('amq.default', q, B('x')));
    s.out['queue'] = await drain(s, ch, q);
  }),
  sc('publish unroutable without mandatory', async (s) => {
    const c = await s.connect();
    const cc = await s.confirmChannel(c);
    const mark = s.mark();
    await s.op('publish+confirm', async () => {
      cc.publish('amq.direct', s.name('nobody'), B('x'));
      await cc.waitForConfirms();
      return true;
    });
    s.out['trace'] = s.trace(mark, { ch: cc, methods: ['basic.return', 'basic.ack', 'basic.nack'] });
  }),
  sc('publish mandatory unroutable', async (s) => {
    const { ch } = await s.open();
    const returns: Json[] = [];
    ch.on('return', (m: Message) => returns.push(msgJson(m)));
    const mark = s.mark();
    await s.act('publish', ch, () => ch.publish('amq.direct', s.name('nobody'), B('bounce'), { mandatory: true }));
    await s.waitFor(() => returns.length > 0);
    s.out['returns'] = returns;
    s.out['return frame'] = toJson(s.entries(mark, { methods: ['basic.return'] }).map((e) => e.fields));
  }),
  sc('publish mandatory unroutable in confirm mode', async (s) => {
    const c = await s.connect();
    const cc = await s.confirmChannel(c);
    const mark = s.mark();
    await s.op('publish+confirm', async () => {
      cc.publish('amq.direct', s.name('nobody'), B('bounce'), { mandatory: true });
      await cc.waitForConfirms();
      return true;
    });
    s.out['trace'] = s.trace(mark, { ch: cc, methods: ['basic.return', 'basic.ack', 'basic.nack'] });
  }),
  sc('publish mandatory to default exchange missing queue', async (s) => {
    const c = await s.connect();
    const cc = await s.confirmChannel(c);
    const mark = s.mark();
    await s.op('publish+confirm', async () => {
      cc.publish('', s.name('nope'), B('bounce'), { mandatory: true });
      await cc.waitForConfirms();
      return true;
    });
    s.out['returns'] = toJson(s.entries(mark, { methods: ['basic.return'] }).map((e) => e.fields));
    s.out['trace'] = s.trace(mark, { ch: cc, methods: ['basic.return', 'basic.ack', 'basic.nack'] });
  }),
  sc('publish mandatory routable', async (s) => {
    const c = await s.connect();
    const ch = await s.channel(c);
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const cc = await s.confirmChannel(c);
    const mark = s.mark();
    await s.op('publish+confirm', async () => {
      cc.sendToQueue(q, B('fine'), { mandatory: true });
      await cc.waitForConfirms();
      return true;
    });
    s.out['trace'] = s.trace(mark, { ch: cc, methods: ['basic.return', 'basic.ack', 'basic.nack'] });
  }),
  sc('publish immediate', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish immediate', ch, () =>
      c.raw.sendMessage(internals(ch).ch, M.BasicPublish, { exchange: '', routingKey: q, mandatory: false, immediate: true, ticket: 0 }, M.BasicProperties, {}, B('now')),
    );
  }),
  sc('publish user_id mismatch', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish', ch, () => ch.sendToQueue(q, B('x'), { userId: 'bob' }));
  }),
  sc('publish user_id matching', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish', ch, () => ch.sendToQueue(q, B('x'), { userId: 'guest' }));
    await s.op('get', () => ch.get(q, { noAck: true }), msgJson);
  }),
  sc('publish invalid expiration', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish', ch, () => ch.sendToQueue(q, B('x'), { expiration: 'abc' }));
  }),
  sc('publish negative expiration', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish', ch, () => ch.sendToQueue(q, B('x'), { expiration: '-5' }));
  }),
  sc('publish properties round trip', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish', ch, () =>
      ch.sendToQueue(q, B('props'), {
        contentType: 'text/plain',
        contentEncoding: 'utf-8',
        headers: { a: 1, b: 'two', c: true, d: [1, 'x'], e: { nested: 1 } },
        persistent: true,
        priority: 5,
        correlationId: 'corr',
        replyTo: 'reply',
        expiration: '60000',
        messageId: 'mid',
        timestamp: 1700000000,
        type: 't',
        appId: 'app',
      }),
    );
    await s.op('get', () => ch.get(q, { noAck: true }), msgJson);
  }),
  sc('publish empty body', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.act('publish', ch, () => ch.sendToQueue(q, Buffer.alloc(0)));
    await s.op('get', () => ch.get(q, { noAck: true }), msgJson);
  }),
  sc('publish body larger than frame-max', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const body = Buffer.alloc(300_000, 0x61);
    await s.act('publish', ch, () => ch.sendToQueue(q, body));
    await s.op('get', () => ch.get(q, { noAck: true }), (m) => (m === false ? 'get-empty' : m.content.length));
  }),
  sc('publish over the default max message size', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    // RabbitMQ 3.10's max_message_size defaults to 128 MiB; the check uses the content header's
    // body size, so the server closes the channel without needing the whole body.
    await s.act('publish 128 MiB + 1', ch, () => ch.sendToQueue(q, Buffer.alloc(134217728 + 1)));
  }),
];

const BINDINGS: Scenario[] = [
  sc('queue.bind to default exchange', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('bind', () => ch.bindQueue(q, '', q));
  }),
  sc('queue.unbind from default exchange', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('unbind', () => ch.unbindQueue(q, '', q));
  }),
  sc('exchange.bind with default exchange as source', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'fanout', { durable: false }));
    await s.op('bind', () => ch.bindExchange(x, '', 'k'));
  }),
  sc('exchange.bind with default exchange as destination', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'fanout', { durable: false }));
    await s.op('bind', () => ch.bindExchange('', x, 'k'));
  }),
  sc('queue.bind missing queue', async (s) => {
    const { ch } = await s.open();
    await s.op('bind', () => ch.bindQueue(s.name('nope'), 'amq.direct', 'k'));
  }),
  sc('queue.bind missing exchange', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('bind', () => ch.bindQueue(q, s.name('nope'), 'k'));
  }),
  sc('queue.bind missing queue and exchange', async (s) => {
    const { ch } = await s.open();
    await s.op('bind', () => ch.bindQueue(s.name('noq'), s.name('nox'), 'k'));
  }),
  sc('queue.bind twice is idempotent', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('bind 1', () => ch.bindQueue(q, 'amq.direct', s.name('k')));
    await s.op('bind 2', () => ch.bindQueue(q, 'amq.direct', s.name('k')));
    await fill(s, c, q, 0);
    await s.act('publish', ch, () => ch.publish('amq.direct', s.name('k'), B('once')));
    s.out['queue'] = await drain(s, ch, q);
    await s.op('unbind', () => ch.unbindQueue(q, 'amq.direct', s.name('k')));
  }),
  sc('queue.bind with empty queue name uses last declared', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('bind ""', () => ch.bindQueue('', 'amq.direct', s.name('k')));
    await s.act('publish', ch, () => ch.publish('amq.direct', s.name('k'), B('via last')));
    s.out['queue'] = await drain(s, ch, q);
    await s.op('unbind', () => ch.unbindQueue(q, 'amq.direct', s.name('k')));
  }),
  sc('queue.bind with empty queue name and no declare', async (s) => {
    const { ch } = await s.open();
    await s.op('bind ""', () => ch.bindQueue('', 'amq.direct', 'k'));
  }),
  sc('queue.unbind nonexistent binding', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('unbind', () => ch.unbindQueue(q, 'amq.direct', 'never-bound'));
  }),
  sc('queue.unbind missing queue', async (s) => {
    const { ch } = await s.open();
    await s.op('unbind', () => ch.unbindQueue(s.name('nope'), 'amq.direct', 'k'));
  }),
  sc('queue.unbind missing exchange', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('unbind', () => ch.unbindQueue(q, s.name('nope'), 'k'));
  }),
  sc('queue.unbind with different arguments', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    const x = s.x('x');
    await s.op('declare x', () => ch.assertExchange(x, 'headers', { durable: false }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind', () => ch.bindQueue(q, x, '', { 'x-match': 'all', a: 1 }));
    await s.op('unbind other args', () => ch.unbindQueue(q, x, '', { 'x-match': 'all', a: 2 }));
    await s.act('publish', ch, () => ch.publish(x, '', B('still bound'), { headers: { a: 1 } }));
    s.out['queue'] = await drain(s, ch, q);
  }),
  sc('exchange.bind missing source', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'fanout', { durable: false }));
    await s.op('bind', () => ch.bindExchange(x, s.name('nope'), 'k'));
  }),
  sc('exchange.bind missing destination', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'fanout', { durable: false }));
    await s.op('bind', () => ch.bindExchange(s.name('nope'), x, 'k'));
  }),
  sc('exchange.unbind missing source', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'fanout', { durable: false }));
    await s.op('unbind', () => ch.unbindExchange(x, s.name('nope'), 'k'));
  }),
  sc('exchange.unbind missing destination', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare', () => ch.assertExchange(x, 'fanout', { durable: false }));
    await s.op('unbind', () => ch.unbindExchange(s.name('nope'), x, 'k'));
  }),
  sc('exchange.unbind nonexistent binding', async (s) => {
    const { ch } = await s.open();
    const a = s.x('a');
    const b = s.x('b');
    await s.op('declare a', () => ch.assertExchange(a, 'fanout', { durable: false }));
    await s.op('declare b', () => ch.assertExchange(b, 'fanout', { durable: false }));
    await s.op('unbind', () => ch.unbindExchange(b, a, 'k'));
  }),
  sc('exchange.bind routes through', async (s) => {
    const { ch } = await s.open();
    const a = s.x('a');
    const b = s.x('b');
    const q = s.q('q');
    await s.op('declare a', () => ch.assertExchange(a, 'topic', { durable: false }));
    await s.op('declare b', () => ch.assertExchange(b, 'direct', { durable: false }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind b<-a', () => ch.bindExchange(b, a, 'k.*'));
    await s.op('bind q<-b', () => ch.bindQueue(q, b, 'k.1'));
    await s.act('publish', ch, () => {
      ch.publish(a, 'k.1', B('k.1'));
      ch.publish(a, 'k.2', B('k.2'));
      ch.publish(a, 'x.1', B('x.1'));
    });
    s.out['queue'] = await drain(s, ch, q);
  }),
  sc('headers bind with bad x-match', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('bind', () => ch.bindQueue(q, 'amq.headers', '', { 'x-match': 'some' }));
  }),
  sc('headers bind with non-string x-match', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('bind', () => ch.bindQueue(q, 'amq.headers', '', { 'x-match': 1 }));
  }),
  sc('headers exchange routing any and all', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    const qAll = s.q('all');
    const qAny = s.q('any');
    const qNone = s.q('none');
    await s.op('declare x', () => ch.assertExchange(x, 'headers', { durable: false }));
    for (const q of [qAll, qAny, qNone]) await declareQ(s, ch, `declare ${q}`, q);
    await s.op('bind all', () => ch.bindQueue(qAll, x, '', { 'x-match': 'all', a: 1, b: 'two' }));
    await s.op('bind any', () => ch.bindQueue(qAny, x, '', { 'x-match': 'any', a: 1, b: 'two' }));
    await s.op('bind empty', () => ch.bindQueue(qNone, x, '', {}));
    await s.act('publish', ch, () => {
      ch.publish(x, '', B('a1 b2'), { headers: { a: 1, b: 'two' } });
      ch.publish(x, '', B('a1'), { headers: { a: 1 } });
      ch.publish(x, '', B('a1 b3'), { headers: { a: 1, b: 'three' } });
      ch.publish(x, '', B('none'), { headers: {} });
      ch.publish(x, '', B('a1 as string'), { headers: { a: '1' } });
    });
    s.out['all'] = await drain(s, ch, qAll);
    s.out['any'] = await drain(s, ch, qAny);
    s.out['empty binding'] = await drain(s, ch, qNone);
  }),
  sc('topic exchange routing patterns', async (s) => {
    const { ch } = await s.open();
    const x = s.x('x');
    await s.op('declare x', () => ch.assertExchange(x, 'topic', { durable: false }));
    const patterns = ['a.*', 'a.#', '#', '*.b', 'a.*.c', '#.c', 'a..b', '*', ''];
    const qs: Record<string, string> = {};
    for (const [i, p] of patterns.entries()) {
      const q = s.q(`p${i}`);
      qs[p] = q;
      await declareQ(s, ch, `declare ${p}`, q);
      await s.op(`bind ${JSON.stringify(p)}`, () => ch.bindQueue(q, x, p));
    }
    await s.act('publish', ch, () => {
      for (const k of ['a', 'a.b', 'a.b.c', 'x.b', 'a.x.y.c', '', 'a..b', '.c', 'c']) ch.publish(x, k, B(JSON.stringify(k)));
    });
    for (const p of patterns) s.out[`queue for ${JSON.stringify(p)}`] = await drain(s, ch, qs[p]!);
  }),
  sc('fanout and direct routing', async (s) => {
    const { ch } = await s.open();
    const f = s.x('f');
    const q1 = s.q('q1');
    const q2 = s.q('q2');
    await s.op('declare f', () => ch.assertExchange(f, 'fanout', { durable: false }));
    await declareQ(s, ch, 'declare q1', q1);
    await declareQ(s, ch, 'declare q2', q2);
    await s.op('bind q1 f', () => ch.bindQueue(q1, f, 'ignored'));
    await s.op('bind q2 f', () => ch.bindQueue(q2, f, ''));
    await s.op('bind q1 direct a', () => ch.bindQueue(q1, 'amq.direct', s.name('a')));
    await s.op('bind q1 direct b', () => ch.bindQueue(q1, 'amq.direct', s.name('b')));
    await s.act('publish', ch, () => {
      ch.publish(f, 'whatever', B('fan'));
      ch.publish('amq.direct', s.name('a'), B('a'));
      ch.publish('amq.direct', s.name('b'), B('b'));
      ch.publish('amq.direct', s.name('c'), B('c'));
    });
    s.out['q1'] = await drain(s, ch, q1);
    s.out['q2'] = await drain(s, ch, q2);
    await s.op('unbind a', () => ch.unbindQueue(q1, 'amq.direct', s.name('a')));
    await s.op('unbind b', () => ch.unbindQueue(q1, 'amq.direct', s.name('b')));
  }),
  sc('alternate exchange receives unroutable', async (s) => {
    const { c, ch } = await s.open();
    const ae = s.x('ae');
    const x = s.x('x');
    const q = s.q('q');
    await s.op('declare ae', () => ch.assertExchange(ae, 'fanout', { durable: false }));
    await s.op('declare x', () => ch.assertExchange(x, 'direct', { durable: false, alternateExchange: ae }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind', () => ch.bindQueue(q, ae, ''));
    const cc = await s.confirmChannel(c);
    const mark = s.mark();
    await s.op('publish mandatory', async () => {
      cc.publish(x, 'nowhere', B('to ae'), { mandatory: true });
      await cc.waitForConfirms();
      return true;
    });
    s.out['trace'] = s.trace(mark, { ch: cc, methods: ['basic.return', 'basic.ack', 'basic.nack'] });
    s.out['queue'] = await drain(s, ch, q);
  }),
];

const DELETE_PURGE: Scenario[] = [
  sc('queue.delete if-unused with a consumer', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.consume('consume', ch, q);
    const ch2 = await s.channel(c);
    await s.op('delete if-unused', () => ch2.deleteQueue(q, { ifUnused: true }));
  }),
  sc('queue.delete if-unused without consumers', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 2);
    await s.op('delete if-unused', () => ch.deleteQueue(q, { ifUnused: true }));
  }),
  sc('queue.delete if-empty with messages', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 2);
    await s.op('delete if-empty', () => ch.deleteQueue(q, { ifEmpty: true }));
  }),
  sc('queue.delete if-empty with only unacked messages', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await oneDelivery(s, c, ch, q);
    const ch2 = await s.channel(c);
    await s.op('delete if-empty', () => ch2.deleteQueue(q, { ifEmpty: true }));
  }),
  sc('queue.delete missing', async (s) => {
    const { ch } = await s.open();
    await s.op('delete', () => ch.deleteQueue(s.name('nope')));
    await s.op('delete if-empty if-unused', () => ch.deleteQueue(s.name('nope'), { ifEmpty: true, ifUnused: true }));
  }),
  sc('queue.delete message-count reply', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 3);
    await s.op('delete', () => ch.deleteQueue(q));
    await s.op('delete again', () => ch.deleteQueue(q));
  }),
  sc('queue.delete message-count with unacked', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await s.op('prefetch 1', () => ch.prefetch(1));
    await oneDelivery(s, c, ch, q);
    await fill(s, c, q, 2);
    const ch2 = await s.channel(c);
    await s.op('delete', () => ch2.deleteQueue(q));
  }),
  sc('queue.delete with empty name uses last declared', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('delete ""', () => ch.deleteQueue(''));
    s.out['exists'] = await s.queueExists(c, q);
  }),
  sc('queue.purge count', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 4);
    await s.op('purge', () => ch.purgeQueue(q));
    await s.op('purge empty', () => ch.purgeQueue(q));
  }),
  sc('queue.purge leaves unacked messages', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await s.op('prefetch 1', () => ch.prefetch(1));
    const cons = await oneDelivery(s, c, ch, q);
    await fill(s, c, q, 2);
    const ch2 = await s.channel(c);
    await s.op('purge', () => ch2.purgeQueue(q));
    await s.op('cancel', () => ch.cancel(cons.tag));
    await s.op('recover', () => ch.recover());
    await s.op('after recover', () => ch2.checkQueue(q));
  }),
  sc('queue.purge missing', async (s) => {
    const { ch } = await s.open();
    await s.op('purge', () => ch.purgeQueue(s.name('nope')));
  }),
  sc('queue.delete with consumer on same channel sends basic.cancel', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const cons = await s.consume('consume', ch, q, { consumerTag: s.name('tag') });
    const mark = s.mark();
    await s.op('delete', () => ch.deleteQueue(q));
    s.out['consumer cancelled'] = await s.waitFor(() => cons.cancelled);
    s.out['cancel frames'] = toJson(s.entries(mark, { methods: ['basic.cancel'] }).map((e) => e.fields));
    s.out['channel still open'] = (await s.op('after', () => ch.checkExchange('amq.direct'))) !== undefined;
  }),
  sc('queue.delete with consumer on other connection sends basic.cancel', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const cons = await s.consume('consume', ch, q);
    const c2 = await s.connect();
    const ch2 = await s.channel(c2);
    const mark = s.mark();
    await s.op('delete', () => ch2.deleteQueue(q));
    s.out['consumer cancelled'] = await s.waitFor(() => cons.cancelled);
    s.out['cancel frames'] = toJson(s.entries(mark, { methods: ['basic.cancel'] }).map((e) => e.fields));
  }),
  sc('queue.delete with no-ack consumer holding nothing', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const cons = await s.consume('consume', ch, q, { noAck: true });
    await s.op('delete', () => ch.deleteQueue(q));
    s.out['consumer cancelled'] = await s.waitFor(() => cons.cancelled);
  }),
];

const AUTO_DELETE: Scenario[] = [
  sc('auto-delete queue after last consumer cancels', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { autoDelete: true });
    const cons = await s.consume('consume', ch, q);
    await s.op('cancel', () => ch.cancel(cons.tag));
    s.out['exists after cancel'] = await s.until(() => s.queueExists(c, q), false);
  }),
  sc('auto-delete queue keeps living while a consumer remains', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { autoDelete: true });
    const a = await s.consume('consume a', ch, q);
    await s.consume('consume b', ch, q);
    await s.op('cancel a', () => ch.cancel(a.tag));
    await s.quiet();
    s.out['exists'] = await s.queueExists(c, q);
  }),
  sc('auto-delete queue never consumed stays', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { autoDelete: true });
    await s.quiet();
    s.out['exists'] = await s.queueExists(c, q);
  }),
  sc('auto-delete queue after consumer channel closes', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { autoDelete: true });
    const ch2 = await s.channel(c);
    await s.consume('consume', ch2, q);
    await s.op('close consumer channel', () => ch2.close());
    s.out['exists after close'] = await s.until(() => s.queueExists(c, q), false);
  }),
  sc('auto-delete queue after basic.get only stays', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { autoDelete: true });
    await fill(s, c, q, 1);
    await s.op('get', () => ch.get(q, { noAck: true }), msgJson);
    await s.quiet();
    s.out['exists'] = await s.queueExists(c, q);
  }),
  sc('auto-delete exchange after last unbind', async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    const q = s.q('q');
    await s.op('declare x', () => ch.assertExchange(x, 'direct', { durable: false, autoDelete: true }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind 1', () => ch.bindQueue(q, x, 'a'));
    await s.op('bind 2', () => ch.bindQueue(q, x, 'b'));
    await s.op('unbind 1', () => ch.unbindQueue(q, x, 'a'));
    s.out['exists after first unbind'] = await s.exchangeExists(c, x);
    await s.op('unbind 2', () => ch.unbindQueue(q, x, 'b'));
    s.out['exists after last unbind'] = await s.until(() => s.exchangeExists(c, x), false);
  }),
  sc('auto-delete exchange never bound stays', async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    await s.op('declare x', () => ch.assertExchange(x, 'direct', { durable: false, autoDelete: true }));
    await s.quiet();
    s.out['exists'] = await s.exchangeExists(c, x);
  }),
  sc('auto-delete exchange after its queue is deleted', async (s) => {
    const { c, ch } = await s.open();
    const x = s.x('x');
    const q = s.q('q');
    await s.op('declare x', () => ch.assertExchange(x, 'fanout', { durable: false, autoDelete: true }));
    await declareQ(s, ch, 'declare q', q);
    await s.op('bind', () => ch.bindQueue(q, x, ''));
    await s.op('delete q', () => ch.deleteQueue(q));
    s.out['exists after queue deleted'] = await s.until(() => s.exchangeExists(c, x), false);
  }),
  sc('auto-delete exchange as source after exchange unbind', async (s) => {
    const { c, ch } = await s.open();
    const src = s.x('src');
    const dst = s.x('dst');
    await s.op('declare src', () => ch.assertExchange(src, 'fanout', { durable: false, autoDelete: true }));
    await s.op('declare dst', () => ch.assertExchange(dst, 'fanout', { durable: false, autoDelete: true }));
    await s.op('bind', () => ch.bindExchange(dst, src, ''));
    await s.op('unbind', () => ch.unbindExchange(dst, src, ''));
    s.out['src exists'] = await s.until(() => s.exchangeExists(c, src), false);
    s.out['dst exists'] = await s.exchangeExists(c, dst);
  }),
];

const CONSUME: Scenario[] = [
  sc('basic.consume on missing queue', async (s) => {
    const { ch } = await s.open();
    await s.consume('consume', ch, s.name('nope'));
  }),
  sc('basic.consume with empty queue name and no declare', async (s) => {
    const { ch } = await s.open();
    await s.consume('consume', ch, '');
  }),
  sc('basic.consume with empty queue name uses last declared', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 1);
    const cons = await s.consume('consume ""', ch, '', { noAck: true });
    s.out['delivered'] = await s.waitFor(() => cons.msgs.length === 1);
    s.out['message'] = msgJson(cons.msgs[0] ?? null);
  }),
  sc('exclusive consume when another consumer exists', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.consume('first', ch, q);
    const ch2 = await s.channel(c);
    await s.consume('exclusive', ch2, q, { exclusive: true });
  }),
  sc('consume when an exclusive consumer exists', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.consume('exclusive', ch, q, { exclusive: true });
    const ch2 = await s.channel(c);
    await s.consume('second', ch2, q);
  }),
  sc('consume when an exclusive consumer exists from other connection', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.consume('exclusive', ch, q, { exclusive: true });
    const c2 = await s.connect();
    const ch2 = await s.channel(c2);
    await s.consume('second', ch2, q);
    const ch3 = await s.channel(c2);
    await s.op('get while exclusive consumer', () => ch3.get(q), msgJson);
  }),
  sc('duplicate consumer tag on a channel', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.consume('first', ch, q, { consumerTag: 'dup-tag' });
    await s.consume('second', ch, q, { consumerTag: 'dup-tag' });
  }),
  sc('same consumer tag on two channels', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.consume('first', ch, q, { consumerTag: 'shared-tag' });
    const ch2 = await s.channel(c);
    await s.consume('second', ch2, q, { consumerTag: 'shared-tag' });
  }),
  sc('basic.cancel unknown tag', async (s) => {
    const { ch } = await s.open();
    await s.op('cancel', () => ch.cancel('no-such-tag'));
  }),
  sc('basic.cancel of a tag from another channel', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const cons = await s.consume('consume', ch, q, { consumerTag: 'ch1-tag' });
    const ch2 = await s.channel(c);
    await s.op('cancel on other channel', () => ch2.cancel(cons.tag));
    await s.op('consumer count', () => ch2.checkQueue(q));
  }),
  sc('basic.cancel twice', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const cons = await s.consume('consume', ch, q);
    await s.op('cancel 1', () => ch.cancel(cons.tag));
    await s.op('cancel 2', () => ch.cancel(cons.tag));
  }),
  sc('basic.consume server-generated tag', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const cons = await s.consume('consume', ch, q);
    s.out['matches amq.ctag-'] = /^amq\.ctag-[A-Za-z0-9_-]{22}$/.test(cons.tag);
  }),
  sc('cancel requeues nothing but unacked stay unacked', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const cons = await oneDelivery(s, c, ch, q);
    await s.op('cancel', () => ch.cancel(cons.tag));
    const ch2 = await s.channel(c);
    await s.op('passive after cancel', () => ch2.checkQueue(q));
    await s.act('ack after cancel', ch, () => ch.ack(cons.msgs[0]!));
    await s.op('passive after ack', () => ch2.checkQueue(q));
  }),
  sc('closing channel requeues unacked with redelivered', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await oneDelivery(s, c, ch, q);
    await s.op('close channel', () => ch.close());
    const ch2 = await s.channel(c);
    await s.op('get', () => ch2.get(q, { noAck: true }), msgJson);
  }),
  sc('prefetch limits unacked deliveries', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 3);
    await s.op('prefetch 2', () => ch.prefetch(2));
    const cons = await s.consume('consume', ch, q);
    await s.waitFor(() => cons.msgs.length >= 2);
    await s.quiet();
    s.out['delivered before ack'] = cons.msgs.map((m) => m.content.toString());
    ch.ack(cons.msgs[0]!);
    await s.waitFor(() => cons.msgs.length >= 3);
    s.out['delivered after ack'] = cons.msgs.map((m) => m.content.toString());
    s.out['tags'] = cons.msgs.map((m) => m.fields.deliveryTag);
  }),
  sc('basic.get and deliveries share delivery tags', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 3);
    await s.op('get 1', () => ch.get(q), msgJson);
    await s.op('get 2', () => ch.get(q), msgJson);
    const cons = await s.consume('consume', ch, q);
    await s.waitFor(() => cons.msgs.length >= 1);
    s.out['consumed tags'] = cons.msgs.map((m) => m.fields.deliveryTag);
  }),
];

const ACKS: Scenario[] = [
  sc('ack unknown delivery tag', async (s) => {
    const { ch } = await s.open();
    await s.act('ack 42', ch, () => ch.ack(fakeMsg(42)));
  }),
  sc('ack delivery tag 0 without multiple', async (s) => {
    const { ch } = await s.open();
    await s.act('ack 0', ch, () => ch.ack(fakeMsg(0)));
  }),
  sc('ack delivery tag 0 multiple with nothing outstanding', async (s) => {
    const { ch } = await s.open();
    await s.act('ack 0 multiple', ch, () => ch.ack(fakeMsg(0), true));
  }),
  sc('ack delivery tag 0 multiple acks all', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 2);
    const cons = await s.consume('consume', ch, q);
    await s.waitFor(() => cons.msgs.length === 2);
    await s.act('ack 0 multiple', ch, () => ch.ack(fakeMsg(0), true));
    const ch2 = await s.channel(c);
    await s.op('cancel', () => ch.cancel(cons.tag));
    await s.op('recover', () => ch.recover());
    await s.op('passive', () => ch2.checkQueue(q));
  }),
  sc('double ack', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const cons = await oneDelivery(s, c, ch, q);
    await s.act('ack 1', ch, () => ch.ack(cons.msgs[0]!));
    await s.act('ack 2', ch, () => ch.ack(cons.msgs[0]!));
  }),
  sc('ack multiple beyond range', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 2);
    const cons = await s.consume('consume', ch, q);
    await s.waitFor(() => cons.msgs.length === 2);
    await s.act('ack 5 multiple', ch, () => ch.ack(fakeMsg(5), true));
  }),
  sc('ack multiple beyond range with nothing outstanding', async (s) => {
    const { ch } = await s.open();
    await s.act('ack 5 multiple', ch, () => ch.ack(fakeMsg(5), true));
  }),
  sc('ack multiple with gap already acked', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 3);
    const cons = await s.consume('consume', ch, q);
    await s.waitFor(() => cons.msgs.length === 3);
    await s.act('ack 2', ch, () => ch.ack(fakeMsg(2)));
    await s.act('ack 3 multiple', ch, () => ch.ack(fakeMsg(3), true));
    await s.act('ack 1', ch, () => ch.ack(fakeMsg(1)));
  }),
  sc('nack unknown delivery tag', async (s) => {
    const { ch } = await s.open();
    await s.act('nack 7', ch, () => ch.nack(fakeMsg(7)));
  }),
  sc('nack multiple beyond range', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await oneDelivery(s, c, ch, q);
    await s.act('nack 9 multiple', ch, () => ch.nack(fakeMsg(9), true, true));
  }),
  sc('reject unknown delivery tag', async (s) => {
    const { ch } = await s.open();
    await s.act('reject 3', ch, () => ch.reject(fakeMsg(3)));
  }),
  sc('ack on a no-ack consumer delivery', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const cons = await oneDelivery(s, c, ch, q, { noAck: true });
    await s.act('ack', ch, () => ch.ack(cons.msgs[0]!));
  }),
  sc('ack after basic.get no-ack', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 1);
    const m = await s.op('get no-ack', () => ch.get(q, { noAck: true }), msgJson);
    if (m) await s.act('ack', ch, () => ch.ack(m));
  }),
  sc('ack on another channel', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const cons = await oneDelivery(s, c, ch, q);
    const ch2 = await s.channel(c);
    await s.act('ack on other channel', ch2, () => ch2.ack(cons.msgs[0]!));
  }),
  sc('nack requeue redelivers with redelivered flag', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 1);
    const m = await s.op('get', () => ch.get(q), msgJson);
    if (m) await s.act('nack requeue', ch, () => ch.nack(m, false, true));
    await s.op('get again', () => ch.get(q, { noAck: true }), msgJson);
  }),
  sc('reject without requeue drops', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 1);
    const m = await s.op('get', () => ch.get(q), msgJson);
    if (m) await s.act('reject', ch, () => ch.reject(m, false));
    await s.op('passive', () => ch.checkQueue(q));
  }),
  sc('requeued message goes back to the head', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 3);
    const m1 = await s.op('get 1', () => ch.get(q), msgJson);
    await s.op('get 2', () => ch.get(q), msgJson);
    if (m1) await s.act('nack 1 requeue', ch, () => ch.nack(m1, false, true));
    s.out['order'] = await drain(s, ch, q);
  }),
];

const QOS_GET_RECOVER: Scenario[] = [
  sc('basic.qos prefetch-size nonzero', async (s) => {
    const { ch } = await s.open();
    await s.op('qos', () => internals(ch).rpc(M.BasicQos, { prefetchSize: 1000, prefetchCount: 0, global: false }, M.BasicQosOk));
  }),
  sc('basic.qos global true', async (s) => {
    const { ch } = await s.open();
    await s.op('qos global', () => ch.prefetch(5, true));
  }),
  sc('basic.qos global false', async (s) => {
    const { ch } = await s.open();
    await s.op('qos', () => ch.prefetch(5, false));
  }),
  sc('basic.qos prefetch-count zero', async (s) => {
    const { ch } = await s.open();
    await s.op('qos', () => ch.prefetch(0));
  }),
  sc('basic.get on empty queue', async (s) => {
    const { ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    const mark = s.mark();
    await s.op('get', () => ch.get(q), msgJson);
    s.out['reply'] = toJson(s.entries(mark, { methods: ['basic.get-empty', 'basic.get-ok'] }));
  }),
  sc('basic.get message-count', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 3);
    await s.op('get 1', () => ch.get(q, { noAck: true }), msgJson);
    await s.op('get 2', () => ch.get(q), msgJson);
    await s.op('get 3', () => ch.get(q, { noAck: true }), msgJson);
    await s.op('get 4', () => ch.get(q, { noAck: true }), msgJson);
  }),
  sc('basic.get on missing queue', async (s) => {
    const { ch } = await s.open();
    await s.op('get', () => ch.get(s.name('nope')), msgJson);
  }),
  sc('basic.recover requeue true', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 2);
    const cons = await s.consume('consume', ch, q);
    await s.waitFor(() => cons.msgs.length === 2);
    await s.op('recover', () => ch.recover());
    await s.waitFor(() => cons.msgs.length >= 4);
    s.out['deliveries'] = cons.msgs.map((m) => ({ body: m.content.toString(), tag: m.fields.deliveryTag, redelivered: m.fields.redelivered }));
  }),
  sc('basic.recover requeue false', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const cons = await oneDelivery(s, c, ch, q);
    await s.op('recover requeue=false', () => internals(ch).rpc(M.BasicRecover, { requeue: false }, M.BasicRecoverOk));
    await s.waitFor(() => cons.msgs.length >= 2, ABSENCE_MS * 2);
    s.out['deliveries'] = cons.msgs.map((m) => ({ body: m.content.toString(), tag: m.fields.deliveryTag, redelivered: m.fields.redelivered }));
  }),
  sc('basic.recover with nothing unacked', async (s) => {
    const { ch } = await s.open();
    await s.op('recover', () => ch.recover());
  }),
  sc('basic.recover-async', async (s) => {
    const { c, ch } = await s.open();
    await s.act('recover-async', ch, () => c.raw.sendMethod(internals(ch).ch, M.BasicRecoverAsync, { requeue: true }));
  }),
];

const FLOW_TX_CONFIRM: Scenario[] = [
  sc('channel.flow active false', async (s) => {
    const { ch } = await s.open();
    await s.op('flow false', () => internals(ch).rpc(M.ChannelFlow, { active: false }, M.ChannelFlowOk));
  }),
  sc('channel.flow active true', async (s) => {
    const { ch } = await s.open();
    await s.op('flow true', () => internals(ch).rpc(M.ChannelFlow, { active: true }, M.ChannelFlowOk));
  }),
  sc('confirm.select then tx.select', async (s) => {
    const { ch } = await s.open();
    await s.op('confirm.select', () => confirmSelect(ch));
    await s.op('tx.select', () => tx(ch, 'select'));
  }),
  sc('tx.select then confirm.select', async (s) => {
    const { ch } = await s.open();
    await s.op('tx.select', () => tx(ch, 'select'));
    await s.op('confirm.select', () => confirmSelect(ch));
  }),
  sc('confirm.select twice', async (s) => {
    const { ch } = await s.open();
    await s.op('confirm.select 1', () => confirmSelect(ch));
    await s.op('confirm.select 2', () => confirmSelect(ch));
  }),
  sc('tx.select twice', async (s) => {
    const { ch } = await s.open();
    await s.op('tx.select 1', () => tx(ch, 'select'));
    await s.op('tx.select 2', () => tx(ch, 'select'));
  }),
  sc('tx.commit without tx.select', async (s) => {
    const { ch } = await s.open();
    await s.op('tx.commit', () => tx(ch, 'commit'));
  }),
  sc('tx.rollback without tx.select', async (s) => {
    const { ch } = await s.open();
    await s.op('tx.rollback', () => tx(ch, 'rollback'));
  }),
  sc('tx publish then commit', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('tx.select', () => tx(ch, 'select'));
    ch.sendToQueue(q, B('t1'));
    ch.sendToQueue(q, B('t2'));
    const other = await s.channel(c);
    await s.op('count before commit', () => other.checkQueue(q));
    await s.op('tx.commit', () => tx(ch, 'commit'));
    await s.op('count after commit', () => other.checkQueue(q));
    await s.op('empty commit', () => tx(ch, 'commit'));
  }),
  sc('tx publish then rollback', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await s.op('tx.select', () => tx(ch, 'select'));
    ch.sendToQueue(q, B('t1'));
    await s.op('tx.rollback', () => tx(ch, 'rollback'));
    await s.op('tx.commit', () => tx(ch, 'commit'));
    const other = await s.channel(c);
    await s.op('count', () => other.checkQueue(q));
  }),
  sc('tx ack then rollback keeps message unacked', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q);
    await fill(s, c, q, 1);
    await s.op('tx.select', () => tx(ch, 'select'));
    const m = await s.op('get', () => ch.get(q), msgJson);
    if (m) ch.ack(m);
    await s.op('tx.rollback', () => tx(ch, 'rollback'));
    if (m) ch.ack(m);
    await s.op('tx.commit', () => tx(ch, 'commit'));
    const other = await s.channel(c);
    await s.op('count', () => other.checkQueue(q));
  }),
  sc('tx ack of unknown delivery tag', async (s) => {
    const { ch } = await s.open();
    await s.op('tx.select', () => tx(ch, 'select'));
    const mark = s.mark();
    ch.ack(fakeMsg(99));
    await s.op('tx.commit', () => tx(ch, 'commit'), toJson, mark);
  }),
  sc('tx mandatory unroutable returns at commit', async (s) => {
    const { ch } = await s.open();
    await s.op('tx.select', () => tx(ch, 'select'));
    const mark = s.mark();
    ch.publish('amq.direct', s.name('nobody'), B('bounce'), { mandatory: true });
    await s.op('sync before commit', () => ch.checkExchange('amq.direct'));
    s.out['before commit'] = s.trace(mark, { ch });
    const mark2 = s.mark();
    await s.op('tx.commit', () => tx(ch, 'commit'));
    s.out['at commit'] = s.trace(mark2, { ch });
  }),
  sc('confirm delivery tags count publishes', async (s) => {
    const c = await s.connect();
    const cc = await s.confirmChannel(c);
    const q = s.q('q');
    await s.op('declare', () => cc.assertQueue(q, { durable: false }));
    const mark = s.mark();
    const tags: number[] = [];
    await s.op('publish 3', async () => {
      for (let i = 0; i < 3; i++) cc.sendToQueue(q, B(`c${i}`));
      await cc.waitForConfirms();
      return true;
    });
    for (const e of s.entries(mark, { methods: ['basic.ack'] })) tags.push(Number(e.fields['deliveryTag']));
    s.out['highest acked tag'] = Math.max(...tags);
  }),
];

const DLX_TTL_LIMITS: Scenario[] = [
  sc('dead-letter on reject', async (s) => {
    const { c, ch } = await s.open();
    const dlx = s.x('dlx');
    const q = s.q('q');
    const dlq = s.q('dlq');
    await s.op('declare dlx', () => ch.assertExchange(dlx, 'fanout', { durable: false }));
    await declareQ(s, ch, 'declare dlq', dlq);
    await s.op('bind dlq', () => ch.bindQueue(dlq, dlx, ''));
    await declareQ(s, ch, 'declare q', q, { deadLetterExchange: dlx });
    await fill(s, c, q, 1, { headers: { h: 'v' } });
    const m = await s.op('get', () => ch.get(q), msgJson);
    if (m) await s.act('reject', ch, () => ch.reject(m, false));
    s.out['dlq count'] = await countReaches(s, ch, dlq, 1);
    await s.op('dead-lettered', () => ch.get(dlq, { noAck: true }), msgJson);
  }),
  sc('dead-letter with routing key override on nack', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const dlq = s.q('dlq');
    await declareQ(s, ch, 'declare dlq', dlq);
    await declareQ(s, ch, 'declare q', q, { deadLetterExchange: '', deadLetterRoutingKey: dlq });
    await fill(s, c, q, 1);
    const m = await s.op('get', () => ch.get(q), msgJson);
    if (m) await s.act('nack', ch, () => ch.nack(m, false, false));
    s.out['dlq count'] = await countReaches(s, ch, dlq, 1);
    await s.op('get dlq', () => ch.get(dlq, { noAck: true }), msgJson);
  }),
  sc('dead-letter on message ttl expiry', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const dlq = s.q('dlq');
    await declareQ(s, ch, 'declare dlq', dlq);
    await declareQ(s, ch, 'declare q', q, { messageTtl: 0, deadLetterExchange: '', deadLetterRoutingKey: dlq });
    await fill(s, c, q, 1);
    s.out['dlq count'] = await countReaches(s, ch, dlq, 1);
    await s.op('get dlq', () => ch.get(dlq, { noAck: true }), msgJson);
    await s.op('q count', () => ch.checkQueue(q));
  }),
  sc('per-message expiration dead-letters', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const dlq = s.q('dlq');
    await declareQ(s, ch, 'declare dlq', dlq);
    await declareQ(s, ch, 'declare q', q, { deadLetterExchange: '', deadLetterRoutingKey: dlq });
    await fill(s, c, q, 1, { expiration: '0' });
    s.out['dlq count'] = await countReaches(s, ch, dlq, 1);
    await s.op('get dlq', () => ch.get(dlq, { noAck: true }), msgJson);
  }),
  sc('x-max-length drops head', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { maxLength: 2 });
    await fill(s, c, q, 4);
    await s.op('count', () => ch.checkQueue(q));
    s.out['remaining'] = await drain(s, ch, q);
  }),
  sc('x-max-length dead-letters dropped head', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    const dlq = s.q('dlq');
    await declareQ(s, ch, 'declare dlq', dlq);
    await declareQ(s, ch, 'declare q', q, { maxLength: 1, deadLetterExchange: '', deadLetterRoutingKey: dlq });
    await fill(s, c, q, 2);
    s.out['dlq count'] = await countReaches(s, ch, dlq, 1);
    await s.op('get dlq', () => ch.get(dlq, { noAck: true }), msgJson);
  }),
  sc('x-overflow reject-publish nacks in confirm mode', async (s) => {
    const c = await s.connect();
    const ch = await s.channel(c);
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { maxLength: 1, overflow: 'reject-publish' });
    const cc = await s.confirmChannel(c);
    const mark = s.mark();
    await s.op('publish 2', async () => {
      cc.sendToQueue(q, B('1'));
      cc.sendToQueue(q, B('2'));
      await cc.waitForConfirms();
      return true;
    });
    s.out['confirms'] = toJson(s.entries(mark, { ch: cc, methods: ['basic.ack', 'basic.nack'] }).map((e) => ({ method: e.method, ...(e.fields as object) })));
    s.out['queue'] = await drain(s, ch, q);
  }),
  sc('x-max-length-bytes drops head', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { arguments: { 'x-max-length-bytes': 5 } });
    await fill(s, c, q, 3);
    s.out['remaining'] = await drain(s, ch, q);
  }),
  sc('x-expires deletes idle queue', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { expires: 200 });
    // A passive declare counts as use and restarts the expiry timer, so look only once, later.
    await s.quiet(1000);
    s.out['exists after 1s'] = await s.queueExists(c, q);
  }),
  sc('priority queue orders by priority', async (s) => {
    const { c, ch } = await s.open();
    const q = s.q('q');
    await declareQ(s, ch, 'declare', q, { maxPriority: 5 });
    const cc = await s.confirmChannel(c);
    for (const [body, priority] of [['p1', 1], ['p5', 5], ['p0', 0], ['p9', 9], ['none', undefined]] as const) {
      cc.sendToQueue(q, B(body), priority === undefined ? {} : { priority });
    }
    await s.op('confirmed', async () => {
      await cc.waitForConfirms();
      return true;
    });
    s.out['order'] = await drain(s, ch, q);
  }),
];

const CONNECTION: Scenario[] = [
  sc('connection with wrong password', async (s) => {
    s.out['handshake'] = await rawHandshake(s.url, { password: 'definitely-wrong' });
  }),
  sc('connection with wrong password without authentication_failure_close', async (s) => {
    s.out['handshake'] = await rawHandshake(s.url, { password: 'definitely-wrong', capabilities: false });
  }),
  sc('connection with unknown user', async (s) => {
    s.out['handshake'] = await rawHandshake(s.url, { user: 'wd-nobody', password: 'x' });
  }),
  sc('connection to missing vhost', async (s) => {
    s.out['handshake'] = await rawHandshake(s.url, { vhost: 'wd-no-such-vhost' });
  }),
  sc('connection handshake tune and capabilities', async (s) => {
    s.out['handshake'] = await rawHandshake(s.url, {});
  }),
  sc('amqplib connect error text for wrong password', async (s) => {
    const u = new URL(s.url);
    u.password = 'definitely-wrong';
    try {
      const m = await amqp.connect(u.toString());
      await closeModelQuietly(m);
      s.out['connect'] = 'connected';
    } catch (e) {
      s.out['connect'] = errMessage(e);
    }
  }),
  sc('channel.open on an already open channel', async (s) => {
    const { c, ch } = await s.open();
    await s.act('second channel.open', ch, () => c.raw.sendMethod(internals(ch).ch, M.ChannelOpen, { outOfBand: '' }));
  }),
  sc('method on a channel that is not open', async (s) => {
    const { c, ch } = await s.open();
    // amqplib only sends on channels it opened: write the encoded frame to the socket directly.
    await s.act('queue.declare on channel 9', ch, () =>
      c.raw.stream.write(
        defs.encodeMethod(M.QueueDeclare, 9, { queue: 'x', passive: true, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {}, ticket: 0 }),
      ),
    );
  }),
  sc('channel.open above channel-max', async (s) => {
    const { c, ch } = await s.open();
    const mark = s.mark();
    await s.act('channel.open 4000', ch, () => c.raw.stream.write(defs.encodeMethod(M.ChannelOpen, 4000, { outOfBand: '' })));
    // If the server answers on channel 4000, amqplib (which never opened it) closes the connection.
    s.out['server frames'] = s.entries(mark).map((e) => `${e.ch} ${e.method}`);
  }),
  sc('channel.open beyond the negotiated channel-max count', async (s) => {
    const u = new URL(s.url);
    u.searchParams.set('channelMax', '3');
    const c = await s.connect(u.toString());
    const chans: Channel[] = [];
    for (let i = 0; i < 3; i++) chans.push(await s.channel(c));
    s.out['open channels'] = chans.map((ch) => internals(ch).ch);
    const mark = s.mark();
    // amqplib will not allocate a 4th channel itself: write channel.open for channel 10 directly.
    await s.act('channel.open 10', chans[0]!, () => c.raw.stream.write(defs.encodeMethod(M.ChannelOpen, 10, { outOfBand: '' })));
    s.out['server frames'] = s.entries(mark).map((e) => `${e.ch} ${e.method}`);
  }),
  sc('connection-level error closes all channels', async (s) => {
    const { c, ch } = await s.open();
    const ch2 = await s.channel(c);
    let ch2Closed = false;
    ch2.on('close', () => (ch2Closed = true));
    await s.act('immediate publish', ch, () =>
      c.raw.sendMessage(internals(ch).ch, M.BasicPublish, { exchange: '', routingKey: 'x', mandatory: false, immediate: true, ticket: 0 }, M.BasicProperties, {}, B('now')),
    );
    s.out['other channel closed'] = await s.waitFor(() => ch2Closed);
  }),
  sc('channel error leaves other channels open', async (s) => {
    const { c, ch } = await s.open();
    const ch2 = await s.channel(c);
    await s.op('passive missing', () => ch.checkQueue(s.name('nope')));
    await s.op('other channel works', () => ch2.checkExchange('amq.direct'));
    await s.op('reopen works', async () => {
      const ch3 = await s.channel(c);
      await ch3.close();
      return true;
    });
  }),
];

export const SCENARIOS: Scenario[] = [
  ...QUEUE_DECLARE,
  ...EXCLUSIVE,
  ...EXCHANGES,
  ...PUBLISH,
  ...BINDINGS,
  ...DELETE_PURGE,
  ...AUTO_DELETE,
  ...CONSUME,
  ...ACKS,
  ...QOS_GET_RECOVER,
  ...FLOW_TX_CONFIRM,
  ...DLX_TTL_LIMITS,
  ...CONNECTION,
];

/** Runs every scenario (in order) against one broker; used to (re)generate the recording. */
export async function recordAll(url: string, only?: (name: string) => boolean): Promise<Record<string, Outcome>> {
  const result: Record<string, Outcome> = {};
  for (const sce of SCENARIOS) {
    if (only && !only(sce.name)) continue;
    result[sce.name] = await sce.run(url);
  }
  return result;
}

function loadRecorded(): Record<string, Outcome> {
  // Compiled into dist/test/support/, the JSON stays beside the TypeScript source.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'rabbitmq-recorded.json'), join(here, '../../../test/support/rabbitmq-recorded.json')]) {
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as Record<string, Outcome>;
  }
  return {};
}

/** Scenario name -> Outcome captured from RabbitMQ 3.10.8 (test/support/rabbitmq-recorded.json). */
export const RECORDED: ReadonlyMap<string, Outcome> = new Map(Object.entries(loadRecorded()));
