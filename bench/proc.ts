/**
 * Broker CPU and RSS from /proc (Linux), for a process and all its descendants, so the same code
 * measures a single Node process and RabbitMQ's sh wrapper + beam.smp + helpers alike.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc/PID/stat times are in clock ticks of 1/100 s on Linux. */
const CLK_TCK = 100;

interface Stat { ppid: number; ticks: number }

function readStat(pid: number): Stat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state ppid ... utime(14) stime(15)
    // cutime(16) cstime(17); children's times count once they were reaped.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/** pid and its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    const c = d.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readStat(Number(d));
    if (st === null) continue;
    let list = children.get(st.ppid);
    if (list === undefined) children.set(st.ppid, (list = []));
    list.push(Number(d));
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    for (const k of children.get(p) ?? []) stack.push(k);
  }
  return out;
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) used so far by the tree. */
export function treeCpuSeconds(root: number): number {
  let t = 0;
  for (const p of processTree(root)) t += readStat(p)?.ticks ?? 0;
  return t / CLK_TCK;
}

/** Resident set size of the tree, bytes. */
export function treeRssBytes(root: number): number {
  let kb = 0;
  for (const p of processTree(root)) kb += rssKb(p);
  return kb * 1024;
}

/** Whole-machine busy CPU seconds (all cores), for "everything else on the box". */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / CLK_TCK;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Snapshot {
  /** process.hrtime.bigint() (CLOCK_MONOTONIC, comparable across threads and processes). */
  t: bigint;
  brokerCpu: number;
  brokerRss: number;
  clientCpu: number;
  /** All CPU time used on the machine so far (every process, every core). */
  machineCpu: number;
}

export function snapshot(brokerPid: number): Snapshot {
  const u = process.cpuUsage(); // this process, all threads (the load generator's workers)
  return {
    t: process.hrtime.bigint(),
    brokerCpu: treeCpuSeconds(brokerPid),
    brokerRss: treeRssBytes(brokerPid),
    clientCpu: (u.user + u.system) / 1e6,
    machineCpu: machineBusySeconds(),
  };
}

export interface Usage {
  wallS: number;
  brokerCpuS: number;
  /** Broker CPU as a percentage of one core. */
  brokerCpuPct: number;
  clientCpuPct: number;
  /**
   * CPU used by everything else on the machine (other people's test runs...), % of one core: on a shared
   * 2-core box this is what makes a figure unreliable, so every result reports it.
   */
  otherCpuPct: number;
  brokerRssBefore: number;
  brokerRssAfter: number;
  /** Highest RSS seen by the sampler between the two snapshots (bytes). */
  brokerRssPeak: number;
}

export function usageBetween(a: Snapshot, b: Snapshot, peak: number): Usage {
  const wallS = Number(b.t - a.t) / 1e9;
  const brokerCpuS = b.brokerCpu - a.brokerCpu;
  const clientCpuS = b.clientCpu - a.clientCpu;
  return {
    wallS,
    brokerCpuS,
    brokerCpuPct: (brokerCpuS / wallS) * 100,
    clientCpuPct: (clientCpuS / wallS) * 100,
    otherCpuPct: Math.max(0, ((b.machineCpu - a.machineCpu - brokerCpuS - clientCpuS) / wallS) * 100),
    brokerRssBefore: a.brokerRss,
    brokerRssAfter: b.brokerRss,
    brokerRssPeak: Math.max(peak, a.brokerRss, b.brokerRss),
  };
}

/** Samples the broker's RSS every `ms` until stopped; peak() is the highest seen. */
export class RssSampler {
  private max = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number, ms = 100) {
    this.timer = setInterval(() => this.sample(), ms);
  }
  sample(): void {
    const r = treeRssBytes(this.pid);
    if (r > this.max) this.max = r;
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.max;
  }
}
