/**
 * Load generator worker thread: one AMQP connection (amqplib) per publisher or consumer, each in its own
 * thread, so no client shares an event loop with another or with the broker (a separate process).
 *
 * Progress goes through a SharedArrayBuffer (per worker: count, first timestamp, last timestamp), so the
 * main thread can watch without messages per delivery. Timestamps are process.hrtime.bigint()
 * (CLOCK_MONOTONIC), comparable across threads. Publishers honour backpressure: publish() === false →
 * wait for 'drain'; with confirms at most `window` publishes are unconfirmed.
 */
import amqp from 'amqplib';
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';

export const SLOT = 4; // BigInt64 words per worker: count, firstTs, lastTs, spare
const SOCKET = { noDelay: true };

export interface PublisherData {
  role: 'publisher';
  slot: number;
  sab: SharedArrayBuffer;
  url: string;
  exchange: string;
  routingKey: string;
  size: number;
  count: number;
  confirm: boolean;
  window: number;
  persistent: boolean;
  /** Messages per second for this publisher; 0 = as fast as backpressure allows. */
  rate: number;
  /** Write hrtime into the first 8 body bytes (latency). */
  stamp: boolean;
  timeLimitS: number;
}

export interface ConsumerData {
  role: 'consumer';
  slot: number;
  sab: SharedArrayBuffer;
  url: string;
  queue: string;
  noAck: boolean;
  prefetch: number;
  latency: boolean;
}

export interface ChurnData {
  role: 'churn';
  slot: number;
  url: string;
  count: number;
  channel: boolean;
}

export type WorkerData = PublisherData | ConsumerData | ChurnData;

export type FromWorker =
  | { type: 'ready'; slot: number }
  | { type: 'error'; slot: number; error: string }
  | {
    type: 'done'; slot: number; published: number; timedOut: boolean; drainWaits: number;
    tFirst: bigint; tPubEnd: bigint; confirmed: number; nacked: number; tConfirmEnd: bigint;
  }
  | { type: 'churned'; slot: number; tEnd: bigint; timesUs: Float64Array; errors: string[] }
  | { type: 'final'; slot: number; count: number; latencyUs: Float64Array | null };

export type ToWorker = { type: 'go' } | { type: 'stop' };

const now = (): bigint => process.hrtime.bigint();

function post(m: FromWorker): void {
  parentPort!.postMessage(m);
}

/** Messages from the main thread, awaited by type. */
class Inbox {
  private readonly got: ToWorker[] = [];
  private waiter: (() => void) | null = null;
  constructor() {
    parentPort!.on('message', (m: ToWorker) => {
      this.got.push(m);
      this.waiter?.();
    });
  }
  async next(type: ToWorker['type']): Promise<void> {
    for (;;) {
      const i = this.got.findIndex((m) => m.type === type);
      if (i >= 0) {
        this.got.splice(i, 1);
        return;
      }
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
  }
}

async function consumer(d: ConsumerData, inbox: Inbox, fail: (e: unknown) => void): Promise<void> {
  const sab = new BigInt64Array(d.sab);
  const base = d.slot * SLOT;
  const conn = await amqp.connect(d.url, SOCKET);
  conn.on('error', fail);
  const ch = await conn.createChannel();
  ch.on('error', fail);
  if (!d.noAck && d.prefetch > 0) await ch.prefetch(d.prefetch);
  let count = 0;
  const lat: number[] | null = d.latency ? [] : null;
  await ch.consume(d.queue, (msg) => {
    if (msg === null) return;
    const t = now();
    count++;
    if (lat !== null) lat.push(Number(t - msg.content.readBigUInt64LE(0)) / 1000);
    if (!d.noAck) ch.ack(msg);
    if (count === 1) Atomics.store(sab, base + 1, t);
    Atomics.store(sab, base + 2, t);
    Atomics.store(sab, base, BigInt(count));
  }, { noAck: d.noAck });
  post({ type: 'ready', slot: d.slot });
  await inbox.next('stop');
  await conn.close().catch(() => undefined);
  post({ type: 'final', slot: d.slot, count, latencyUs: lat === null ? null : Float64Array.from(lat) });
}

async function publisher(d: PublisherData, inbox: Inbox, fail: (e: unknown) => void): Promise<void> {
  const sab = new BigInt64Array(d.sab);
  const base = d.slot * SLOT;
  const conn = await amqp.connect(d.url, SOCKET);
  conn.on('error', fail);
  const ch = d.confirm ? await conn.createConfirmChannel() : await conn.createChannel();
  ch.on('error', fail);
  const body = Buffer.alloc(d.size, 0x61);
  const props = d.persistent ? { deliveryMode: 2 } : {};
  let outstanding = 0;
  let confirmed = 0;
  let nacked = 0;
  let tConfirmEnd = 0n;
  let slotFree: (() => void) | null = null;
  let allConfirmed: (() => void) | null = null;
  let drainWaits = 0;
  const onConfirm = (err: unknown): void => {
    outstanding--;
    if (err == null) confirmed++;
    else nacked++;
    tConfirmEnd = now();
    if (slotFree !== null && outstanding < d.window) {
      const f = slotFree;
      slotFree = null;
      f();
    }
    if (allConfirmed !== null && outstanding === 0) allConfirmed();
  };
  const publish = d.confirm
    ? (): boolean => (ch as amqp.ConfirmChannel).publish(d.exchange, d.routingKey, body, props, onConfirm)
    : (): boolean => ch.publish(d.exchange, d.routingKey, body, props);
  post({ type: 'ready', slot: d.slot });
  await inbox.next('go');

  const t0 = now();
  Atomics.store(sab, base + 1, t0);
  const deadline = t0 + BigInt(Math.round(d.timeLimitS * 1e9));
  let i = 0;
  let timedOut = false;
  if (d.rate === 0) {
    for (; i < d.count; i++) {
      if ((i & 1023) === 0) {
        Atomics.store(sab, base, BigInt(i));
        if (now() > deadline) {
          timedOut = true;
          break;
        }
      }
      if (d.confirm && outstanding >= d.window) await new Promise<void>((r) => (slotFree = r));
      if (d.stamp) body.writeBigUInt64LE(now(), 0);
      if (d.confirm) outstanding++;
      if (!publish()) {
        drainWaits++;
        await once(ch, 'drain');
      }
    }
  } else {
    // Fixed rate: publish every message whose time has come, then sleep until the next one is due.
    const intervalNs = 1e9 / d.rate;
    await new Promise<void>((done) => {
      const tick = (): void => {
        const elapsed = Number(now() - t0);
        const due = Math.min(d.count, Math.floor(elapsed / intervalNs) + 1);
        while (i < due) {
          if (d.stamp) body.writeBigUInt64LE(now(), 0);
          if (d.confirm) outstanding++;
          if (!publish()) drainWaits++;
          i++;
        }
        Atomics.store(sab, base, BigInt(i));
        if (i >= d.count) return done();
        setTimeout(tick, Math.max(0, (i * intervalNs - Number(now() - t0)) / 1e6));
      };
      tick();
    });
  }
  const tPubEnd = now();
  Atomics.store(sab, base, BigInt(i));
  Atomics.store(sab, base + 2, tPubEnd);
  if (d.confirm && outstanding > 0) await new Promise<void>((r) => (allConfirmed = r));
  post({
    type: 'done', slot: d.slot, published: i, timedOut, drainWaits, tFirst: t0, tPubEnd, confirmed, nacked, tConfirmEnd,
  });
  await inbox.next('stop');
  await conn.close().catch(() => undefined);
  post({ type: 'final', slot: d.slot, count: i, latencyUs: null });
}

/** Sequential open (+ channel) + close, `count` times. */
async function churn(d: ChurnData, inbox: Inbox): Promise<void> {
  post({ type: 'ready', slot: d.slot });
  await inbox.next('go');
  const times: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < d.count; i++) {
    const t = now();
    try {
      const conn = await amqp.connect(d.url, SOCKET);
      conn.on('error', () => undefined);
      if (d.channel) await conn.createChannel();
      await conn.close();
      times.push(Number(now() - t) / 1000);
    } catch (err) {
      errors.push(String((err as Error).message ?? err));
    }
  }
  post({ type: 'churned', slot: d.slot, tEnd: now(), timesUs: Float64Array.from(times), errors: errors.slice(0, 5) });
  await inbox.next('stop');
  post({ type: 'final', slot: d.slot, count: times.length, latencyUs: null });
}

async function main(): Promise<void> {
  const d = workerData as WorkerData;
  const inbox = new Inbox();
  const fail = (e: unknown): void => {
    post({ type: 'error', slot: d.slot, error: String((e as Error)?.stack ?? e) });
    setTimeout(() => process.exit(1), 50);
  };
  try {
    if (d.role === 'consumer') await consumer(d, inbox, fail);
    else if (d.role === 'publisher') await publisher(d, inbox, fail);
    else await churn(d, inbox);
  } catch (err) {
    fail(err);
  }
}

if (parentPort !== null) void main();
