/**
 * Turns the JSON lines of bench/side-by-side.sh (the shared harness's output, plus `main.js memory --json`)
 * into Markdown tables: per scenario the median over repetitions for Warren and RabbitMQ, and the ratio.
 *
 *   node dist/bench/side-by-side-report.js OUT.jsonl
 */
import { readFileSync } from 'node:fs';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
const mb = (kb: number): string => (Number.isFinite(kb) ? `${fmt(kb / 1024)} MB` : '–');

function labelOf(r: Row): string {
  if (typeof r['label'] === 'string') return r['label'];
  // main.js --json lines: broker is "LABEL (server version)"
  return String(r['broker'] ?? '?').split(' (')[0]!;
}
function idOf(r: Row): string {
  return String(r['id'] ?? r['scenario'] ?? '?');
}

interface Metric { name: string; get: (r: Row) => number; digits?: number; unit?: string; higherIsBetter: boolean }

const cpuPct = (r: Row): number => (num(r['broker_cpu_s']) / num(r['wall_s'])) * 100;
const METRICS: Record<string, Metric[]> = {
  throughput: [
    { name: 'msgs/s', get: (r) => num(r['msgs_per_s']), higherIsBetter: true },
  ],
  fanout: [
    { name: 'published msgs/s (all 10 queues delivered)', get: (r) => num(r['msgs_per_s']), higherIsBetter: true },
    { name: 'deliveries/s', get: (r) => num(r['deliveries_per_s']), higherIsBetter: true },
  ],
  latency: [
    { name: 'p50 µs', get: (r) => num((r['latency_us'] as Row | undefined)?.['p50']), digits: 0, higherIsBetter: false },
    { name: 'p99 µs', get: (r) => num((r['latency_us'] as Row | undefined)?.['p99']), digits: 0, higherIsBetter: false },
    { name: 'p99.9 µs', get: (r) => num((r['latency_us'] as Row | undefined)?.['p999']), digits: 0, higherIsBetter: false },
  ],
  churn: [
    { name: 'open+channel+close /s', get: (r) => num(r['conns_per_s']), higherIsBetter: true },
    { name: 'broker CPU ms per cycle', get: (r) => num(r['broker_cpu_ms_per_conn']), digits: 2, higherIsBetter: false },
  ],
  manyqueues: [
    { name: 'declare+bind+delete ops/s', get: (r) => (3 * 10000) / (num(r['declare_s']) + num(r['bind_s']) + num(r['delete_s'])), higherIsBetter: true },
    { name: 'declares/s', get: (r) => num(r['declares_per_s']), higherIsBetter: true },
    { name: 'binds/s', get: (r) => num(r['binds_per_s']), higherIsBetter: true },
    { name: 'deletes/s', get: (r) => num(r['deletes_per_s']), higherIsBetter: true },
    { name: 'RSS bytes per queue', get: (r) => num(r['broker_rss_bytes_per_queue']), higherIsBetter: false },
  ],
  confirm: [
    { name: 'confirmed msgs/s', get: (r) => num(r['confirmed_msgs_per_s']), higherIsBetter: true },
    { name: 'end-to-end msgs/s', get: (r) => num(r['msgs_per_s']), higherIsBetter: true },
  ],
  memory: [
    { name: 'RSS bytes per queued msg', get: (r) => num(r['value']), digits: 0, higherIsBetter: false },
    { name: 'publish msgs/s', get: (r) => num((r['data'] as Row | undefined)?.['pubMsgsPerS']), higherIsBetter: true },
  ],
  startup: [
    { name: 'spawn → first connection.open ms', get: (r) => num(r['startup_ms']), digits: 0, higherIsBetter: false },
    { name: 'idle RSS MB (5 s)', get: (r) => num(r['broker_rss_kb_idle']) / 1024, digits: 0, higherIsBetter: false },
  ],
};

/** Other processes' CPU during the run, % of one core (harness: other_cpu_s; main.js: otherCpuPct). */
function otherPct(r: Row): number {
  if (typeof r['otherCpuPct'] === 'number') return r['otherCpuPct'];
  return (num(r['other_cpu_s']) / num(r['wall_s'])) * 100;
}
/** Runs disturbed by other processes (a test suite beside us takes a whole core of two) are left out. */
const DISTURBED_PCT = 35;
function clean(rs: Row[]): { rows: Row[]; note: string } {
  const ok = rs.filter((r) => !(otherPct(r) > DISTURBED_PCT));
  return ok.length > 0 ? { rows: ok, note: `${ok.length}/${rs.length}` } : { rows: rs, note: `0/${rs.length} (all disturbed)` };
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: side-by-side-report.js OUT.jsonl');
  const rows: Row[] = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Row);
  const byId = new Map<string, Row[]>();
  for (const r of rows) {
    if (r['error'] !== undefined) {
      process.stdout.write(`<!-- error in ${idOf(r)} / ${labelOf(r)}: ${String(r['error'])} -->\n`);
      continue;
    }
    const id = idOf(r);
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id)!.push(r);
  }
  process.stdout.write(`Medians over the runs not disturbed by other processes (< ${DISTURBED_PCT}% of a core; "reps" = clean/all for Warren, RabbitMQ).\n\n`);
  process.stdout.write('| scenario | metric | Warren | RabbitMQ | Warren/RabbitMQ | reps |\n|---|---|---:|---:|---:|---:|\n');
  const extras: string[] = [];
  for (const [id, rs] of byId) {
    const kind = String(rs[0]!['scenario']);
    const metrics = METRICS[kind];
    if (metrics === undefined) continue;
    const labels = [...new Set(rs.map(labelOf))];
    const rmqAll = rs.filter((r) => labelOf(r) === 'rabbitmq');
    const { rows: rmq, note: rmqNote } = clean(rmqAll);
    for (const label of labels.filter((l) => l !== 'rabbitmq')) {
      const wAll = rs.filter((r) => labelOf(r) === label);
      const { rows: w, note: wNote } = clean(wAll);
      for (const m of metrics) {
        const wv = median(w.map(m.get));
        const rv = median(rmq.map(m.get));
        const ratio = m.higherIsBetter ? wv / rv : rv / wv;
        const name = label === 'warren' ? id : `${id} (${label})`;
        process.stdout.write(`| ${name} | ${m.name} | ${fmt(wv, m.digits)} | ${fmt(rv, m.digits)} | ${fmt(ratio, 2)}×${m.higherIsBetter ? '' : ' (lower is better: RabbitMQ/Warren)'} | ${wNote}, ${rmqNote} |\n`);
      }
      if (kind !== 'startup' && kind !== 'memory') {
        extras.push(`| ${label === 'warren' ? id : `${id} (${label})`} | ${fmt(median(w.map(cpuPct)))}% | ${fmt(median(rmq.map(cpuPct)))}% | ` +
          `${mb(median(w.map((r) => num(r['broker_rss_kb_after']))))} | ${mb(median(rmq.map((r) => num(r['broker_rss_kb_after']))))} | ` +
          `${fmt(median(w.map((r) => num(r['client_cpu_s']) / num(r['wall_s']) * 100)))}% / ${fmt(median(rmq.map((r) => num(r['client_cpu_s']) / num(r['wall_s']) * 100)))}% | ` +
          `${fmt(median([...w, ...rmq].map(otherPct)))}% |`);
      }
    }
  }
  process.stdout.write('\n| scenario | broker CPU Warren | broker CPU RabbitMQ | RSS after Warren | RSS after RabbitMQ | client CPU W / R | other CPU on the box |\n' +
    '|---|---:|---:|---:|---:|---:|---:|\n');
  for (const e of extras) process.stdout.write(`${e}\n`);
}

main();
