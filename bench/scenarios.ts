/**
 * The broker scenarios of `make bench`. Each starts a fresh broker process (so RSS and CPU belong to that
 * scenario alone), drives it with the worker-thread load generator, and returns one result line.
 * With an external broker (--url/--broker-pid) the same load runs against it instead (e.g. RabbitMQ).
 */
import { Broker, sleep } from './broker.js';
import { formatCodecResult, runCodecBench } from './codec.js';
import { churn, flow, manyQueues, queueDepth, withChannel, type FlowResult, type FlowSpec } from './loadgen.js';
import type { Usage } from './proc.js';
import { treeRssBytes } from './proc.js';

export interface Context {
  /** Run against this broker instead of starting Warren (scenarios needing a particular config skip). */
  external?: { url: string; pid: number; label: string };
  /** Extra node flags for the brokers started (profiling). */
  nodeArgs?: readonly string[];
  /** Scale message counts (e.g. 0.2 for a smoke run). */
  scale: number;
}

export interface Result {
  scenario: string;
  broker: string;
  /** The headline figure and its unit ("msg/s", "conn/s", "ms", "bytes/msg"). */
  value: number;
  unit: string;
  /** Broker CPU, % of one core, over the measured interval (undefined where meaningless). */
  cpuPct?: number;
  /** Broker RSS at the end of the measurement, and the peak seen, bytes. */
  rss?: number;
  rssPeak?: number;
  /** CPU used by other processes on the machine meanwhile, % of one core (noise: see docs/benchmarks.md). */
  otherCpuPct?: number;
  detail: string;
  data?: unknown;
}

interface Scenario {
  name: string;
  what: string;
  run(ctx: Context): Promise<Result[]>;
}

const rid = (): string => `${process.pid}.${Date.now().toString(36)}`;
const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const mb = (b: number): string => `${(b / 1048576).toFixed(0)} MB`;
const scaled = (ctx: Context, count: number): number => Math.max(1000, Math.round(count * ctx.scale));

async function withBroker<T>(ctx: Context, o: { store: 'memory' | 'level'; fsync?: boolean }, fn: (b: Broker) => Promise<T>): Promise<T> {
  const b = ctx.external !== undefined
    ? Broker.external(ctx.external.url, ctx.external.pid, ctx.external.label)
    : await Broker.start({ ...o, ...(ctx.nodeArgs ? { nodeArgs: ctx.nodeArgs } : {}) });
  try {
    return await fn(b);
  } finally {
    await b.stop();
  }
}

function usageFields(u: Usage): Pick<Result, 'cpuPct' | 'rss' | 'rssPeak' | 'otherCpuPct'> {
  return { cpuPct: u.brokerCpuPct, rss: u.brokerRssAfter, rssPeak: u.brokerRssPeak, otherCpuPct: u.otherCpuPct };
}

function flowDetail(r: FlowResult, what: string): string {
  return `${what}; ${n(r.published)} msgs in ${r.e2eS.toFixed(2)} s, publish ${n(r.pubMsgsPerS)} msg/s, ` +
    `client CPU ${r.usage.clientCpuPct.toFixed(0)}%${r.timedOut ? ', TIME LIMIT HIT' : ''}`;
}

/** One queue (or a fanout of several), a flow through it, then delete what was declared. */
async function queueFlow(
  ctx: Context, name: string,
  spec: Omit<FlowSpec, 'url' | 'brokerPid' | 'queues' | 'exchange' | 'routingKey'> & { queues?: number; durable?: boolean },
  store: 'memory' | 'level' = 'memory', fsync = false,
): Promise<FlowResult & { broker: string }> {
  return withBroker(ctx, { store, fsync }, async (b) => {
    const id = rid();
    const nq = spec.queues ?? 1;
    const queues = Array.from({ length: nq }, (_, i) => `bench.${name}.${id}.${i}`);
    const exchange = nq > 1 ? `bench.${name}.${id}` : '';
    const server = await withChannel(b.url, async (ch, server) => {
      if (exchange !== '') await ch.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
      for (const q of queues) {
        await ch.assertQueue(q, { durable: spec.durable === true, autoDelete: false });
        if (exchange !== '') await ch.bindQueue(q, exchange, '');
      }
      return server;
    });
    try {
      const r = await flow({ ...spec, url: b.url, brokerPid: b.pid, queues, exchange, routingKey: exchange === '' ? queues[0]! : '' });
      return { ...r, broker: `${b.label} (${server})` };
    } finally {
      await withChannel(b.url, async (ch) => {
        for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
        if (exchange !== '') await ch.deleteExchange(exchange).catch(() => undefined);
      }).catch(() => undefined);
    }
  });
}

function throughput(name: string, what: string, spec: Parameters<typeof queueFlow>[2]): Scenario {
  return {
    name, what,
    async run(ctx) {
      const s = { ...spec, count: scaled(ctx, spec.count) };
      const r = await queueFlow(ctx, name, s);
      return [{
        scenario: name, broker: r.broker, value: r.msgsPerS, unit: 'msg/s', ...usageFields(r.usage),
        detail: flowDetail(r, what) + (s.queues ? `, ${n(r.deliveriesPerS)} deliveries/s` : ''), data: r,
      }];
    },
  };
}

function persistent(name: string, fsync: boolean, count: number): Scenario {
  const what = `1 publisher, confirms (window 256) → durable queue → 1 consumer, manual ack (prefetch 100), 1 KiB persistent, ` +
    `level store${fsync ? ' --fsync' : ', default sync'}`;
  return {
    name, what,
    async run(ctx) {
      if (ctx.external !== undefined && fsync) return [];
      const r = await queueFlow(ctx, name, {
        publishers: 1, consumersPerQueue: 1, size: 1024, count: scaled(ctx, count), noAck: false, prefetch: 100,
        confirm: true, window: 256, persistent: true, durable: true, timeLimitS: 20,
      }, 'level', fsync);
      return [{
        scenario: name, broker: r.broker, value: r.confirmedMsgsPerS!, unit: 'confirmed msg/s', ...usageFields(r.usage),
        detail: `end-to-end ${n(r.msgsPerS)} msg/s; ${flowDetail(r, what)}; nacked ${r.nacked}`, data: r,
      }];
    },
  };
}

const latency: Scenario = {
  name: 'latency',
  what: '1 publisher at a fixed 1,000 msg/s for 10 s → 1 consumer, manual ack (prefetch 100), 16 B',
  async run(ctx) {
    const rate = 1000;
    const count = Math.max(2000, Math.round(10 * rate * Math.min(1, ctx.scale)));
    const r = await queueFlow(ctx, 'latency', {
      publishers: 1, consumersPerQueue: 1, size: 16, count, noAck: false, prefetch: 100, rate, latency: true,
    });
    const l = r.latencyUs!;
    return [{
      scenario: 'latency', broker: r.broker, value: l.p99, unit: 'µs p99', ...usageFields(r.usage),
      detail: `p50 ${l.p50.toFixed(0)} µs, p90 ${l.p90.toFixed(0)} µs, p99 ${l.p99.toFixed(0)} µs, p99.9 ${l.p999.toFixed(0)} µs, ` +
        `max ${l.max.toFixed(0)} µs over ${l.n} msgs at ${n(r.msgsPerS)} msg/s`,
      data: r,
    }];
  },
};

const churnScenario: Scenario = {
  name: 'churn',
  what: 'connection.open + channel.open + connection.close, one after another (amqplib connect/createChannel/close)',
  async run(ctx) {
    return withBroker(ctx, { store: 'memory' }, async (b) => {
      const count = scaled(ctx, 2000);
      const r = await churn(b.url, b.pid, count, true);
      if (r.errors.length > 0) throw new Error(`churn errors: ${r.errors.join('; ')}`);
      return [{
        scenario: 'churn', broker: b.label, value: r.connsPerS, unit: 'conn/s', ...usageFields(r.usage),
        detail: `${n(r.ok)} cycles; per cycle p50 ${(r.connUs.p50 / 1000).toFixed(2)} ms, p99 ${(r.connUs.p99 / 1000).toFixed(2)} ms; ` +
          `broker ${((r.usage.brokerCpuS / r.ok) * 1000).toFixed(3)} ms CPU per cycle`,
        data: r,
      }];
    });
  },
};

const manyQueuesScenario: Scenario = {
  name: 'manyqueues',
  what: 'declare 10,000 queues, bind each to a direct exchange, delete them (one channel, sequential RPCs)',
  async run(ctx) {
    return withBroker(ctx, { store: 'memory' }, async (b) => {
      const count = scaled(ctx, 10000);
      const r = await manyQueues(b.url, b.pid, count);
      return [{
        scenario: 'manyqueues', broker: b.label, value: r.opsPerS, unit: 'ops/s', ...usageFields(r.usage),
        detail: `${n(count)} queues: declare ${r.declareS.toFixed(2)} s (${n(count / r.declareS)}/s), bind ${r.bindS.toFixed(2)} s ` +
          `(${n(count / r.bindS)}/s), delete ${r.deleteS.toFixed(2)} s (${n(count / r.deleteS)}/s); ` +
          `RSS ${n(r.rssPerQueue)} bytes per queue+binding`,
        data: r,
      }];
    });
  },
};

const memory: Scenario = {
  name: 'memory',
  what: '1,000,000 transient 16-byte messages published into one queue with no consumer: RSS growth per message',
  async run(ctx) {
    return withBroker(ctx, { store: 'memory' }, async (b) => {
      const count = scaled(ctx, 1_000_000);
      const q = `bench.memory.${rid()}`;
      const server = await withChannel(b.url, async (ch, s) => (await ch.assertQueue(q, { durable: false, autoDelete: false }), s));
      try {
        // Baseline after a connection has come and gone, so per-connection buffers are in both figures.
        await sleep(500);
        const before = treeRssBytes(b.pid);
        const r = await flow({
          url: b.url, brokerPid: b.pid, publishers: 1, queues: [], consumersPerQueue: 0, exchange: '', routingKey: q,
          size: 16, count, noAck: true, prefetch: 0, timeLimitS: 120,
        });
        // The broker may still be routing what the publisher wrote; wait until the queue holds it all.
        const deadline = Date.now() + 60000;
        let depth = 0;
        while ((depth = await queueDepth(b.url, q)) < r.published && Date.now() < deadline) await sleep(100);
        await sleep(1000);
        const after = treeRssBytes(b.pid);
        return [{
          scenario: 'memory', broker: `${b.label} (${server})`, value: (after - before) / depth, unit: 'bytes/msg',
          cpuPct: r.usage.brokerCpuPct, rss: after, rssPeak: r.usage.brokerRssPeak, otherCpuPct: r.usage.otherCpuPct,
          detail: `${n(depth)} msgs queued; RSS ${mb(before)} → ${mb(after)}; published at ${n(r.pubMsgsPerS)} msg/s`,
          data: { before, after, depth, published: r.published, pubMsgsPerS: r.pubMsgsPerS },
        }];
      } finally {
        await withChannel(b.url, (ch) => ch.deleteQueue(q)).catch(() => undefined);
      }
    });
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const startup: Scenario = {
  name: 'startup',
  what: 'embedded startBroker() and CLI spawn → first accepted AMQP connection, idle RSS (level store, fresh data dir; median of 3)',
  async run(ctx) {
    if (ctx.external !== undefined) return [];
    const runs = 3;
    const settleMs = 2000;
    const cli = { first: [] as number[], rss: [] as number[] };
    const emb = { first: [] as number[], ready: [] as number[], spawn: [] as number[], imp: [] as number[], rss: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const c = await Broker.start({ store: 'level' });
      try {
        cli.first.push(Number(c.tFirstOpen - c.tSpawn) / 1e6);
        await sleep(settleMs);
        cli.rss.push(treeRssBytes(c.pid));
      } finally {
        await c.stop();
      }
      const e = await Broker.start({ store: 'level', embedded: true });
      try {
        const rep = await e.childReport();
        const tCall = BigInt(rep['tCall']!);
        emb.first.push(Number(e.tFirstOpen - tCall) / 1e6);
        emb.ready.push(Number(BigInt(rep['tReady']!) - tCall) / 1e6);
        emb.imp.push(Number(tCall - BigInt(rep['tImport']!)) / 1e6);
        emb.spawn.push(Number(e.tFirstOpen - e.tSpawn) / 1e6);
        await sleep(settleMs);
        emb.rss.push(treeRssBytes(e.pid));
      } finally {
        await e.stop();
      }
    }
    return [
      {
        scenario: 'startup-embedded', broker: 'warren (embedded) level', value: median(emb.first), unit: 'ms', rss: median(emb.rss),
        detail: `startBroker() → first connection.open-ok ${median(emb.first).toFixed(1)} ms (promise resolved after ` +
          `${median(emb.ready).toFixed(1)} ms; importing the API before it ${median(emb.imp).toFixed(1)} ms; process spawn → ` +
          `first connection ${median(emb.spawn).toFixed(1)} ms); idle RSS ${mb(median(emb.rss))} (node + Warren, ${settleMs / 1000} s after start)`,
        data: emb,
      },
      {
        scenario: 'startup-cli', broker: 'warren level', value: median(cli.first), unit: 'ms', rss: median(cli.rss),
        detail: `spawn \`node bin/warren\` → first connection.open-ok ${median(cli.first).toFixed(1)} ms (runs: ` +
          `${cli.first.map((x) => x.toFixed(0)).join(', ')} ms); idle RSS ${mb(median(cli.rss))}`,
        data: cli,
      },
    ];
  },
};

const codec: Scenario = {
  name: 'codec',
  what: "Warren's generated codec vs amqplib's (defs.js + frame.js), same frames, same run",
  async run(ctx) {
    const { amqplibVersion, results } = runCodecBench({ ms: ctx.scale < 1 ? 100 : 200, rounds: 5 });
    return results.map((r) => ({
      scenario: `codec-${r.op}-${r.kind}`, broker: `amqplib ${amqplibVersion}`, value: r.warren, unit: 'frames/s',
      detail: formatCodecResult(r), data: r,
    }));
  },
};

export const SCENARIOS: readonly Scenario[] = [
  codec,
  throughput('tp-16b-auto', '1 publisher → 1 queue → 1 consumer, 16 B, auto-ack', {
    publishers: 1, consumersPerQueue: 1, size: 16, count: 300_000, noAck: true, prefetch: 0,
  }),
  throughput('tp-1k-manual', '1 publisher → 1 queue → 1 consumer, 1 KiB, manual ack, prefetch 100', {
    publishers: 1, consumersPerQueue: 1, size: 1024, count: 200_000, noAck: false, prefetch: 100,
  }),
  throughput('tp-4x4', '4 publishers → 1 queue → 4 consumers, 16 B, auto-ack', {
    publishers: 4, consumersPerQueue: 4, size: 16, count: 400_000, noAck: true, prefetch: 0,
  }),
  throughput('fanout-10', '1 publisher → fanout exchange → 10 queues → 1 consumer each, 16 B, manual ack, prefetch 100', {
    publishers: 1, consumersPerQueue: 1, queues: 10, size: 16, count: 50_000, noAck: false, prefetch: 100,
  }),
  latency,
  churnScenario,
  manyQueuesScenario,
  memory,
  persistent('persistent', false, 60_000),
  persistent('persistent-fsync', true, 20_000),
  startup,
];

export function formatResult(r: Result): string {
  if (r.unit === 'frames/s') return r.detail;
  const value = r.unit === 'ms' || r.unit === 'bytes/msg' ? r.value.toFixed(1) : n(r.value);
  const cpu = r.cpuPct === undefined ? '' : `  broker CPU ${r.cpuPct.toFixed(0).padStart(3)}%`;
  const rss = r.rss === undefined ? '' : `  RSS ${mb(r.rss)}${r.rssPeak !== undefined && r.rssPeak > r.rss * 1.05 ? ` (peak ${mb(r.rssPeak)})` : ''}`;
  const other = r.otherCpuPct !== undefined && r.otherCpuPct >= 10 ? `  [other processes used ${r.otherCpuPct.toFixed(0)}% CPU meanwhile]` : '';
  return `${r.scenario.padEnd(17)} ${value.padStart(9)} ${r.unit.padEnd(15)}${cpu}${rss}  | ${r.detail} [${r.broker}]${other}`;
}
