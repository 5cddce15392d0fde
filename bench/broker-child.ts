/**
 * Warren embedded in a process of its own: `node dist/bench/broker-child.js [--port N] [--store memory|level]
 * [--data-dir DIR] [--fsync] [--log-level L]`. It imports the public API, calls startBroker() and prints one
 * JSON line on stdout: { port, pid, tImport, tCall, tReady } (process.hrtime.bigint() readings as strings,
 * CLOCK_MONOTONIC, so the parent can compare them with its own clock). SIGTERM/SIGINT close it gracefully.
 *
 * The embedded-startup scenario measures startBroker() → first accepted connection with it; it also serves
 * as a broker process when the CLI is unavailable.
 */
const tImport = process.hrtime.bigint();

interface ChildArgs { port: number; store: 'memory' | 'level'; dataDir: string; fsync: boolean; logLevel: string }

function parse(argv: readonly string[]): ChildArgs {
  const a: ChildArgs = { port: 0, store: 'memory', dataDir: './data', fsync: false, logLevel: 'warn' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--fsync') a.fsync = true;
    else if (k === '--port' && v !== undefined) (a.port = Number(v)), i++;
    else if (k === '--store' && (v === 'memory' || v === 'level')) (a.store = v), i++;
    else if (k === '--data-dir' && v !== undefined) (a.dataDir = v), i++;
    else if (k === '--log-level' && v !== undefined) (a.logLevel = v), i++;
    else throw new Error(`broker-child: bad argument ${String(k)}`);
  }
  return a;
}

async function run(): Promise<void> {
  const args = parse(process.argv.slice(2));
  // Imported here, not statically, so tImport → tCall is the module graph's load time.
  const { startBroker } = await import('../src/index.js');
  const tCall = process.hrtime.bigint();
  const warren = await startBroker({
    host: '127.0.0.1', port: args.port, store: args.store, dataDir: args.dataDir, fsync: args.fsync,
    logLevel: args.logLevel as 'warn',
  });
  const tReady = process.hrtime.bigint();
  process.stdout.write(`${JSON.stringify({
    port: warren.port, pid: process.pid, tImport: String(tImport), tCall: String(tCall), tReady: String(tReady),
  })}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    warren.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

run().catch((err: unknown) => {
  process.stderr.write(`broker-child: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
