/**
 * The broker under test as a separate process, so that its CPU and RSS can be read from /proc and it
 * never shares a thread (or a core's time slice accounting) with the load generator:
 * `node bin/warren --host 127.0.0.1 --port P --store memory|level --log-level warn`, or
 * `node dist/bench/broker-child.js` (Warren.start in a bare process) when the CLI is not built.
 * A broker that is already running elsewhere (RabbitMQ, a profiled Warren) is used through `external()`.
 */
import amqp from 'amqplib';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, processTree } from './proc.js';

/** Project root: this file is dist/bench/broker.js. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'warren');
const CLI_MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CHILD = join(ROOT, 'dist', 'bench', 'broker-child.js');

export interface BrokerOptions {
  store: 'memory' | 'level';
  fsync?: boolean;
  /** Extra node flags for the broker, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeArgs?: readonly string[];
  /** Use bench/broker-child.js (the embedding API) instead of bin/warren. */
  embedded?: boolean;
  /** Give up waiting for the first AMQP connection after this long (default 30 s). */
  timeoutMs?: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** One AMQP handshake (connection.open-ok), then close; rejects if refused. */
async function tryOpen(url: string, timeoutMs: number): Promise<void> {
  const conn = await amqp.connect(url, { noDelay: true, timeout: timeoutMs });
  conn.on('error', () => undefined);
  await conn.close().catch(() => undefined);
}

/**
 * Polls until `url` completes an AMQP connection.open; returns process.hrtime.bigint() at that moment.
 * A refused TCP connection fails in microseconds, so a 1 ms pause keeps the error small.
 */
export async function waitForAmqp(url: string, timeoutMs: number, pid?: number): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      await tryOpen(url, 2000);
      return process.hrtime.bigint();
    } catch (err) {
      last = String((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    if (pid !== undefined && !isAlive(pid)) throw new Error(`broker process ${pid} exited before accepting AMQP (${last})`);
    if (Date.now() > deadline) throw new Error(`broker did not accept AMQP within ${timeoutMs} ms (${last})`);
    await sleep(1);
  }
}

export class Broker {
  private exited: Promise<void>;

  private constructor(
    readonly pid: number,
    readonly url: string,
    readonly label: string,
    private readonly child: ChildProcess | null,
    private readonly dataDir: string | null,
    readonly logFile: string | null,
    /** process.hrtime.bigint() just before spawn. */
    readonly tSpawn: bigint,
    /** When it first completed an AMQP connection.open. */
    readonly tFirstOpen: bigint,
  ) {
    this.exited = child === null || child.exitCode !== null
      ? Promise.resolve()
      : new Promise((r) => child.once('exit', () => r()));
  }

  /** A broker someone else started (RabbitMQ, a profiled Warren); stop() leaves it running. */
  static external(url: string, pid: number, label: string): Broker {
    const t = process.hrtime.bigint();
    return new Broker(pid, url, label, null, null, null, t, t);
  }

  static cliAvailable(): boolean {
    return existsSync(CLI_MAIN);
  }

  static async start(o: BrokerOptions): Promise<Broker> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
    const dataDir = join(dir, 'data');
    const logFile = join(dir, 'broker.log');
    const embedded = o.embedded === true || !Broker.cliAvailable();
    const script = embedded ? CHILD : CLI;
    const args = [
      ...(o.nodeArgs ?? []), script, ...(embedded ? [] : ['--host', '127.0.0.1']), '--port', String(port),
      '--store', o.store, '--data-dir', dataDir, '--log-level', 'warn', ...(o.fsync === true ? ['--fsync'] : []),
    ];
    const fd = openSync(logFile, 'a');
    const tSpawn = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', embedded ? 'pipe' : fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not spawn ${script}`);
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    const label = `${embedded ? 'warren (embedded)' : 'warren'} ${o.store}${o.fsync === true ? ' fsync' : ''}`;
    try {
      const tFirstOpen = await waitForAmqp(url, o.timeoutMs ?? 30000, child.pid);
      return new Broker(child.pid, url, label, child, dir, logFile, tSpawn, tFirstOpen);
    } catch (err) {
      child.kill('SIGKILL');
      const log = readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}${log ? `\n${log}` : ''}`);
    }
  }

  /** For the embedded child: its JSON line ({ tCall, tReady, ... }), read from its stdout. */
  async childReport(): Promise<Record<string, string | number>> {
    const out = this.child?.stdout;
    if (out == null) throw new Error('no child stdout');
    let text = '';
    for await (const chunk of out) {
      text += String(chunk);
      if (text.includes('\n')) break;
    }
    return JSON.parse(text.split('\n')[0]!) as Record<string, string | number>;
  }

  /** SIGTERM (graceful close: a --cpu-prof profile is written on exit), SIGKILL after `graceMs`. */
  async stop(graceMs = 15000): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const tree = processTree(this.pid);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!done) child.kill('SIGKILL');
      await this.exited;
    }
    for (const p of tree) if (p !== this.pid && isAlive(p)) process.kill(p, 'SIGKILL');
    if (this.dataDir !== null) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
