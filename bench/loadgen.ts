/**
 * Load generator, main-thread side: spawns publisher/consumer/churn workers (bench/worker.ts), starts
 * them together, watches their shared counters, samples the broker from /proc, and turns it all into
 * figures. The same code drives Warren and any other AMQP 0-9-1 broker (RabbitMQ through --url).
 */
import amqp from 'amqplib';
import { Worker } from 'node:worker_threads';
import { sleep } from './broker.js';
import { RssSampler, snapshot, usageBetween, type Usage } from './proc.js';
import { SLOT, type FromWorker, type WorkerData } from './worker.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);
const now = (): bigint => process.hrtime.bigint();
const secs = (a: bigint, b: bigint): number => Number(b - a) / 1e9;

type Done = Extract<FromWorker, { type: 'done' }>;
type Final = Extract<FromWorker, { type: 'final' }>;
type Churned = Extract<FromWorker, { type: 'churned' }>;

class Pool {
  private readonly workers: Array<{ w: Worker; slot: number }> = [];
  readonly msgs: FromWorker[] = [];
  error: Error | null = null;
  private waiters: Array<() => void> = [];

  spawn(data: WorkerData): void {
    const w = new Worker(WORKER_URL, { workerData: data });
    w.on('message', (m: FromWorker) => {
      if (m.type === 'error') this.error ??= new Error(`worker ${data.role}#${m.slot}: ${m.error}`);
      this.msgs.push(m);
      this.kick();
    });
    w.on('error', (e) => {
      this.error ??= e;
      this.kick();
    });
    w.on('exit', (code) => {
      if (code !== 0) this.error ??= new Error(`worker ${data.role}#${data.slot} exited with ${code}`);
      this.kick();
    });
    this.workers.push({ w, slot: data.slot });
  }

  private kick(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const r of ws) r();
  }

  async waitFor<T extends FromWorker['type']>(type: T, slots: readonly number[], timeoutMs = 60000): Promise<Array<Extract<FromWorker, { type: T }>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.error !== null) throw this.error;
      const got = this.msgs.filter((m) => m.type === type && slots.includes(m.slot)) as Array<Extract<FromWorker, { type: T }>>;
      if (got.length >= slots.length) return got;
      if (Date.now() > deadline) throw new Error(`timeout waiting for '${type}' from ${slots.length - got.length} worker(s)`);
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(200)]);
    }
  }

  send(slots: readonly number[], msg: { type: 'go' | 'stop' }): void {
    for (const { w, slot } of this.workers) if (slots.includes(slot)) w.postMessage(msg);
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map(({ w }) => w.terminate().catch(() => 0)));
  }
}

export interface FlowSpec {
  url: string;
  brokerPid: number;
  publishers: number;
  /** Queues to consume from; consumersPerQueue consumers on each. */
  queues: readonly string[];
  consumersPerQueue: number;
  exchange: string;
  routingKey: string;
  size: number;
  count: number;
  noAck: boolean;
  prefetch: number;
  confirm?: boolean;
  window?: number;
  persistent?: boolean;
  /** Total fixed rate, msg/s (split over publishers); 0 = unthrottled. */
  rate?: number;
  latency?: boolean;
  timeLimitS?: number;
  /** Abort when nothing moved for this long (default 30 s). */
  stallS?: number;
}

export interface FlowResult {
  published: number;
  timedOut: boolean;
  pubMsgsPerS: number;
  /** Published messages fully delivered per second (fanout: each message to every queue). */
  msgsPerS: number;
  deliveriesPerS: number;
  received: number;
  confirmed?: number;
  nacked?: number;
  confirmedMsgsPerS?: number;
  drainWaits: number;
  e2eS: number;
  latencyUs?: LatencySummary;
  usage: Usage;
}

export interface LatencySummary { n: number; p50: number; p90: number; p99: number; p999: number; max: number; mean: number }

export function summarize(values: Float64Array | number[]): LatencySummary {
  const s = Float64Array.from(values).sort();
  const pct = (p: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!);
  let sum = 0;
  for (const v of s) sum += v;
  return { n: s.length, p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: s.length ? s[s.length - 1]! : NaN, mean: sum / s.length };
}

/** Publishers → (exchange) → queues → consumers, until every queue has delivered all that was published. */
export async function flow(spec: FlowSpec): Promise<FlowResult> {
  const P = spec.publishers;
  const nq = spec.queues.length;
  const cpq = spec.consumersPerQueue;
  const nCons = nq * cpq;
  const sab = new SharedArrayBuffer((nCons + P) * SLOT * 8);
  const counters = new BigInt64Array(sab);
  const pool = new Pool();
  const consSlots: number[] = [];
  const pubSlots: number[] = [];
  let slot = 0;
  try {
    for (const queue of spec.queues) {
      for (let c = 0; c < cpq; c++) {
        consSlots.push(slot);
        pool.spawn({
          role: 'consumer', slot: slot++, sab, url: spec.url, queue, noAck: spec.noAck, prefetch: spec.prefetch,
          latency: spec.latency === true,
        });
      }
    }
    await pool.waitFor('ready', consSlots);
    for (let p = 0; p < P; p++) {
      pubSlots.push(slot);
      pool.spawn({
        role: 'publisher', slot: slot++, sab, url: spec.url, exchange: spec.exchange, routingKey: spec.routingKey,
        size: spec.size, count: Math.floor(spec.count / P) + (p < spec.count % P ? 1 : 0),
        confirm: spec.confirm === true, window: spec.window ?? 0, persistent: spec.persistent === true,
        rate: spec.rate ? spec.rate / P : 0, stamp: spec.latency === true, timeLimitS: spec.timeLimitS ?? 60,
      });
    }
    await pool.waitFor('ready', pubSlots);
    await sleep(100);
    const rss = new RssSampler(spec.brokerPid);
    const s0 = snapshot(spec.brokerPid);
    pool.send(pubSlots, { type: 'go' });

    const stallNs = BigInt(Math.round((spec.stallS ?? 30) * 1e9));
    const count = (s: number): bigint => counters[s * SLOT]!;
    const received = (): bigint => consSlots.reduce((a, s) => a + count(s), 0n);
    const allQueuesHave = (n: bigint): boolean => {
      for (let q = 0; q < nq; q++) {
        let got = 0n;
        for (let c = 0; c < cpq; c++) got += count(consSlots[q * cpq + c]!);
        if (got < n) return false;
      }
      return true;
    };
    let lastProgress = now();
    let lastSeen = -1n;
    let dones: Done[] | null = null;
    for (;;) {
      if (pool.error !== null) throw pool.error;
      if (dones === null) {
        const d = pool.msgs.filter((m): m is Done => m.type === 'done');
        if (d.length === P) dones = d;
      }
      if (dones !== null && (nCons === 0 || allQueuesHave(BigInt(dones.reduce((a, m) => a + m.published, 0))))) break;
      const progress = received() + pubSlots.reduce((a, s) => a + count(s), 0n);
      if (progress !== lastSeen) {
        lastSeen = progress;
        lastProgress = now();
      } else if (now() - lastProgress > stallNs) {
        throw new Error(`stalled: published ${pubSlots.reduce((a, s) => a + Number(count(s)), 0)}, received ${received()}`);
      }
      await sleep(dones !== null ? 2 : 20);
    }
    const s1 = snapshot(spec.brokerPid);
    const usage = usageBetween(s0, s1, rss.stop());

    const published = dones.reduce((a, m) => a + m.published, 0);
    const tFirst = dones.reduce((a, m) => (m.tFirst < a ? m.tFirst : a), dones[0]!.tFirst);
    const tPubEnd = dones.reduce((a, m) => (m.tPubEnd > a ? m.tPubEnd : a), 0n);
    const tLastRecv = consSlots.reduce((a, s) => (counters[s * SLOT + 2]! > a ? counters[s * SLOT + 2]! : a), 0n);
    const rec = Number(received());
    const e2eEnd = nCons > 0 ? tLastRecv : tPubEnd;
    const res: FlowResult = {
      published,
      timedOut: dones.some((m) => m.timedOut),
      pubMsgsPerS: published / secs(tFirst, tPubEnd),
      msgsPerS: published / secs(tFirst, e2eEnd),
      deliveriesPerS: rec / secs(tFirst, e2eEnd),
      received: rec,
      drainWaits: dones.reduce((a, m) => a + m.drainWaits, 0),
      e2eS: secs(tFirst, e2eEnd),
      usage,
    };
    if (spec.confirm === true) {
      const tConf = dones.reduce((a, m) => (m.tConfirmEnd > a ? m.tConfirmEnd : a), 0n);
      res.confirmed = dones.reduce((a, m) => a + m.confirmed, 0);
      res.nacked = dones.reduce((a, m) => a + m.nacked, 0);
      res.confirmedMsgsPerS = res.confirmed / secs(tFirst, tConf);
      if (nCons === 0) res.msgsPerS = res.confirmedMsgsPerS;
    }
    pool.send([...consSlots, ...pubSlots], { type: 'stop' });
    const finals = await pool.waitFor('final', [...consSlots, ...pubSlots], 30000);
    if (spec.latency === true) {
      const all: number[] = [];
      for (const m of finals as Final[]) if (m.latencyUs !== null) for (const v of m.latencyUs) all.push(v);
      res.latencyUs = summarize(all);
    }
    return res;
  } finally {
    await pool.terminate();
  }
}

export interface ChurnResult { ok: number; errors: string[]; connsPerS: number; connUs: LatencySummary; usage: Usage }

/** `count` sequential connection.open (+ channel.open) + close, from one worker thread. */
export async function churn(url: string, brokerPid: number, count: number, channel: boolean): Promise<ChurnResult> {
  const pool = new Pool();
  try {
    pool.spawn({ role: 'churn', slot: 0, url, count, channel });
    await pool.waitFor('ready', [0]);
    await sleep(100);
    const rss = new RssSampler(brokerPid);
    const s0 = snapshot(brokerPid);
    pool.send([0], { type: 'go' });
    const [done] = (await pool.waitFor('churned', [0], 600000)) as Churned[];
    const s1 = snapshot(brokerPid);
    const usage = usageBetween(s0, s1, rss.stop());
    pool.send([0], { type: 'stop' });
    await pool.waitFor('final', [0], 10000).catch(() => undefined);
    const ok = done!.timesUs.length;
    return { ok, errors: done!.errors, connsPerS: ok / secs(s0.t, done!.tEnd), connUs: summarize(done!.timesUs), usage };
  } finally {
    await pool.terminate();
  }
}

export interface ManyQueuesResult {
  declareS: number; bindS: number; deleteS: number; opsPerS: number; rssPerQueue: number; usage: Usage;
}

/** Declare n queues, bind each to a direct exchange, delete them: one channel, one RPC at a time. */
export async function manyQueues(url: string, brokerPid: number, n: number): Promise<ManyQueuesResult> {
  const conn = await amqp.connect(url, { noDelay: true });
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    const id = `${process.pid}.${Date.now().toString(36)}`;
    const ex = `bench.mq.${id}`;
    const names = Array.from({ length: n }, (_, i) => `bench.mq.${id}.${i}`);
    await ch.assertExchange(ex, 'direct', { durable: false, autoDelete: false });
    await sleep(200);
    const rss = new RssSampler(brokerPid);
    const s0 = snapshot(brokerPid);
    let t = now();
    for (const q of names) await ch.assertQueue(q, { durable: false, autoDelete: false });
    const declareS = secs(t, now());
    t = now();
    for (const q of names) await ch.bindQueue(q, ex, q);
    const bindS = secs(t, now());
    const withQueues = snapshot(brokerPid).brokerRss;
    t = now();
    for (const q of names) await ch.deleteQueue(q);
    const deleteS = secs(t, now());
    const s1 = snapshot(brokerPid);
    await ch.deleteExchange(ex).catch(() => undefined);
    return {
      declareS, bindS, deleteS, opsPerS: (3 * n) / (declareS + bindS + deleteS),
      rssPerQueue: (withQueues - s0.brokerRss) / n, usage: usageBetween(s0, s1, rss.stop()),
    };
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Messages now in `queue` (queue.declare passive). */
export async function queueDepth(url: string, queue: string): Promise<number> {
  const conn = await amqp.connect(url, { noDelay: true });
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Runs fn with a channel on a fresh connection. */
export async function withChannel<T>(url: string, fn: (ch: amqp.Channel, server: string) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(url, { noDelay: true });
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    const sp = conn.connection.serverProperties as { product?: string; version?: string };
    return await fn(ch, `${sp.product ?? '?'} ${sp.version ?? ''}`.trim());
  } finally {
    await conn.close().catch(() => undefined);
  }
}
