/**
 * Summarises `perf sched timehist --state` output for one broker process during a latency run: how long
 * its threads were runnable but not running — after being woken (wakeup delay) and after being preempted
 * (a run that ended in state R) — which becomes message latency when the broker is the one waiting; split
 * into the first seconds of the recording and the rest, and who had the CPUs while the broker waited more
 * than 0.5 ms. Used by bench/latency-sched.sh.
 *
 *   node dist/bench/sched-summary.js TIMEHIST.txt --broker-pid PID [--harness-pid PID] [--label L] [--early S]
 *
 * Prints one JSON line.
 */
import { readFileSync } from 'node:fs';

interface Run {
  /** Seconds since the first event of the recording, when this run ended. */
  end: number;
  delayMs: number;
  /** Time since this thread last left a CPU. */
  waitMs: number;
  runMs: number;
  /** State when it left the CPU at `end`: R = preempted (still runnable), S/D = blocked. */
  state: string;
  tid: number;
  pid: number;
  name: string;
}

// "   10973.604372 [0000]  node[661]   0.000   0.011   1.442   R" (main thread: [tid]; others: [tid/pid])
const ROW = /^\s+([\d.]+)\s+\[(\d+)\]\s+(.+?)\[(\d+)(?:\/(\d+))?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*([A-Z]?)/;

function parse(file: string): Run[] {
  const runs: Run[] = [];
  let t0: number | null = null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = ROW.exec(line);
    if (m === null) continue;
    const t = Number(m[1]);
    t0 ??= t;
    const tid = Number(m[4]);
    runs.push({
      end: t - t0, name: m[3]!, tid, pid: m[5] === undefined ? tid : Number(m[5]),
      waitMs: Number(m[6]), delayMs: Number(m[7]), runMs: Number(m[8]), state: m[9] ?? '',
    });
  }
  return runs;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function delayStats(delaysMs: number[]): Record<string, number | null> {
  const us = delaysMs.map((d) => d * 1000).sort((a, b) => a - b);
  const r = (v: number | null): number | null => (v === null ? null : Math.round(v));
  return {
    runs: us.length,
    p50_us: r(percentile(us, 0.5)),
    p99_us: r(percentile(us, 0.99)),
    max_us: r(percentile(us, 1)),
    over_1ms: us.filter((d) => d > 1000).length,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args[0];
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const brokerPid = Number(opt('--broker-pid'));
  const harnessPid = opt('--harness-pid') === undefined ? null : Number(opt('--harness-pid'));
  const early = Number(opt('--early') ?? 3);
  if (file === undefined || !Number.isInteger(brokerPid)) {
    process.stderr.write('usage: sched-summary.js TIMEHIST.txt --broker-pid PID [--harness-pid PID] [--label L] [--early S]\n');
    process.exit(2);
  }
  const runs = parse(file);
  const broker = runs.filter((r) => r.pid === brokerPid);
  // How long each broker run had been waiting for a CPU before it started: the wakeup delay after
  // sleeping, or the whole gap after being preempted.
  const lastState = new Map<number, string>();
  for (const r of broker) {
    if (lastState.get(r.tid) === 'R') r.delayMs = Math.max(r.delayMs, r.waitMs);
    lastState.set(r.tid, r.state);
  }
  const preemptions = (rs: Run[]): number => rs.filter((r) => r.state === 'R').length;
  const brokerCpuMs = broker.reduce((s, r) => s + r.runMs, 0);
  // Who ran while a broker thread waited > 0.5 ms for a CPU (overlap of their runs with the wait).
  const takers: Record<string, number> = { harness: 0, 'broker, other threads': 0, other: 0 };
  const byEnd = [...runs].sort((a, b) => a.end - b.end);
  for (const w of broker) {
    if (w.delayMs <= 0.5) continue;
    const runStart = w.end - w.runMs / 1000;
    const waitStart = runStart - w.delayMs / 1000;
    for (const o of byEnd) {
      if (o.end <= waitStart) continue;
      const oStart = o.end - o.runMs / 1000;
      if (oStart >= runStart) continue;
      if (o.tid === w.tid || o.name === '<idle>') continue;
      const overlapMs = (Math.min(o.end, runStart) - Math.max(oStart, waitStart)) * 1000;
      if (overlapMs <= 0) continue;
      const who = o.pid === brokerPid ? 'broker, other threads' : o.pid === harnessPid ? 'harness' : 'other';
      takers[who] = (takers[who] ?? 0) + overlapMs;
    }
  }
  const round = (v: number): number => Math.round(v * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({
      label: opt('--label') ?? null,
      broker_pid: brokerPid,
      broker_threads_seen: new Set(broker.map((r) => r.tid)).size,
      broker_cpu_ms: round(brokerCpuMs),
      preempted_first: preemptions(broker.filter((r) => r.end < early)),
      preempted_after: preemptions(broker.filter((r) => r.end >= early)),
      [`runnable_wait_first_${early}s`]: delayStats(broker.filter((r) => r.end < early).map((r) => r.delayMs)),
      [`runnable_wait_after_${early}s`]: delayStats(broker.filter((r) => r.end >= early).map((r) => r.delayMs)),
      cpu_ms_taken_during_waits_over_0_5ms: Object.fromEntries(Object.entries(takers).map(([k, v]) => [k, round(v)])),
    })}\n`,
  );
}

main();
