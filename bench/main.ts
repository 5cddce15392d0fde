/**
 * `make bench` / `node dist/bench/main.js [SCENARIO...] [options]`: Warren's own benchmark.
 *
 *   node dist/bench/main.js                    every scenario (a few minutes)
 *   node dist/bench/main.js tp-16b-auto churn  just these (a name that is no scenario's selects those it
 *                                              prefixes: `tp` runs the four tp-* ones)
 *   node dist/bench/main.js --list             the scenarios and what each does
 *
 * Options:
 *   --scale X            multiply message counts by X (0.2 for a smoke run)
 *   --json FILE          also append one JSON object per result to FILE
 *   --url URL --broker-pid PID [--label L]
 *                        drive an already running broker (e.g. RabbitMQ) instead of starting Warren
 *   --broker-node-args "FLAGS"
 *                        node flags for each Warren started, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *
 * Each result is one line: the headline figure, broker CPU (% of one core) and RSS, then the details.
 * On this 2-core machine the load generator competes with the broker for CPU: compare figures from one
 * run, not across days (docs/benchmarks.md).
 */
import { appendFileSync } from 'node:fs';
import { SCENARIOS, formatResult, type Context, type Result } from './scenarios.js';

interface Args { names: string[]; scale: number; json?: string; url?: string; pid?: number; label?: string; nodeArgs?: string[]; list: boolean }

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { names: [], scale: 1, list: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--scale') a.scale = Number(v());
    else if (k === '--json') a.json = v();
    else if (k === '--url') a.url = v();
    else if (k === '--broker-pid') a.pid = Number(v());
    else if (k === '--label') a.label = v();
    else if (k === '--broker-node-args') a.nodeArgs = v().split(/\s+/).filter(Boolean);
    else if (k === '--list') a.list = true;
    else if (k.startsWith('--')) throw new Error(`unknown option ${k}`);
    else a.names.push(...k.split(',').filter(Boolean));
  }
  if (!(a.scale > 0)) throw new Error('--scale must be a positive number');
  if ((a.url === undefined) !== (a.pid === undefined)) throw new Error('--url and --broker-pid go together');
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(17)} ${s.what}\n`);
    return;
  }
  // A name selects that scenario; a name that is no scenario's selects those it prefixes (`tp`).
  const matches = (name: string, s: { name: string }): boolean =>
    SCENARIOS.some((x) => x.name === name) ? s.name === name : s.name.startsWith(name);
  const selected = args.names.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => args.names.some((n) => matches(n, s)));
  const unknown = args.names.filter((n) => !SCENARIOS.some((s) => matches(n, s)));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (try --list)`);
  const ctx: Context = {
    scale: args.scale,
    ...(args.url !== undefined ? { external: { url: args.url, pid: args.pid!, label: args.label ?? 'external' } } : {}),
    ...(args.nodeArgs !== undefined ? { nodeArgs: args.nodeArgs } : {}),
  };
  const t0 = Date.now();
  const all: Result[] = [];
  let failed = 0;
  for (const s of selected) {
    try {
      const results = await s.run(ctx);
      for (const r of results) {
        all.push(r);
        process.stdout.write(`${formatResult(r)}\n`);
        if (args.json !== undefined) {
          appendFileSync(args.json, `${JSON.stringify({ ...r, at: new Date().toISOString() }, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}\n`);
        }
      }
    } catch (err) {
      failed++;
      process.stdout.write(`${s.name.padEnd(17)} FAILED: ${(err as Error).stack ?? String(err)}\n`);
    }
  }
  process.stdout.write(`# ${all.length} results from ${selected.length - failed}/${selected.length} scenarios in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message ?? String(err)}\n`);
  process.exitCode = 2;
});
