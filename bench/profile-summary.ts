/**
 * Top self-time functions of a V8 CPU profile (`node --cpu-prof`):
 *
 *   node dist/bench/profile-summary.js FILE.cpuprofile [TOP=15]
 *   node dist/bench/profile-summary.js FILE.cpuprofile --callers NAME   who calls NAME (its self time by call path)
 *
 * Self time is the sampled time spent in the function itself (not its callees), summed over every call
 * site, as the "Bottom-Up" view of Chrome DevTools shows it. Percentages are of the busy time (all
 * samples except "(idle)"), so a broker that waited on its socket half the run still adds up to 100%.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface SelfTime { name: string; where: string; ms: number; pct: number }

export function summarizeProfile(file: string, top = 15): { busyMs: number; idleMs: number; gcMs: number; rows: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<string, { name: string; where: string; us: number }>();
  let idle = 0;
  let total = 0;
  let gc = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the interval after a sample to it.
    const dt = p.timeDeltas[i + 1] ?? 0;
    const n = byId.get(p.samples[i]!)!;
    const cf = n.callFrame;
    total += dt;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    if (cf.functionName === '(garbage collector)') gc += dt;
    const url = cf.url.startsWith('file://') ? relative(process.cwd(), new URL(cf.url).pathname) : cf.url;
    const where = url === '' ? '' : `${url}:${cf.lineNumber + 1}`;
    const name = cf.functionName === '' ? '(anonymous)' : cf.functionName;
    const key = `${name}@${where}`;
    const e = self.get(key);
    if (e === undefined) self.set(key, { name, where, us: dt });
    else e.us += dt;
  }
  const busy = total - idle;
  const rows = [...self.values()].sort((a, b) => b.us - a.us).slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, pct: (e.us / busy) * 100 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, gcMs: gc / 1000, rows };
}

/** NAME's self time split by its call path (up to `depth` callers), largest first. */
export function callersOf(file: string, name: string, depth = 4): Array<{ path: string; ms: number }> {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const paths = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    if (byId.get(id)!.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let q = parent.get(id), k = 0; q !== undefined && k < depth; q = parent.get(q), k++) {
      const cf = byId.get(q)!.callFrame;
      chain.push(`${cf.functionName || '(anonymous)'}:${cf.lineNumber + 1}`);
    }
    const key = chain.join(' ← ');
    paths.set(key, (paths.get(key) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  return [...paths.entries()].map(([path, us]) => ({ path, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: profile-summary.js FILE.cpuprofile [TOP | --callers NAME]');
  if (process.argv[3] === '--callers') {
    const name = process.argv[4] ?? '';
    for (const c of callersOf(file, name).slice(0, 10)) process.stdout.write(`${c.ms.toFixed(0).padStart(6)} ms  ${name} ← ${c.path}\n`);
    return;
  }
  const s = summarizeProfile(file, Number(process.argv[3] ?? 15));
  process.stdout.write(`busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms, GC ${s.gcMs.toFixed(0)} ms (${((s.gcMs / s.busyMs) * 100).toFixed(1)}% of busy)\n`);
  process.stdout.write('| # | self ms | % busy | function | where |\n|---:|---:|---:|---|---|\n');
  s.rows.forEach((r, i) => process.stdout.write(`| ${i + 1} | ${r.ms.toFixed(0)} | ${r.pct.toFixed(1)} | ${r.name} | ${r.where} |\n`));
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
