/**
 * The `warren` command as users run it: `node bin/warren ...` in a child process, its output collected,
 * its startup line and exit awaitable (tests wait for lines and exits, never for time).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'warren');
export const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** `Warren V listening on amqp://HOST:PORT[ and amqps://HOST:TLSPORT], data in DIR`. */
export const STARTUP = /Warren (\S+) listening on amqp:\/\/(\S+):(\d+)(?: and amqps:\/\/\S+:(\d+))?, data in (.+?)(?:"|$)/m;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `warren` child process with its output collected and awaitable. */
export class WarrenProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly waiters: Array<{ re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }> = [];

  constructor(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
    // The developer's own WARREN_* settings must not leak into the tests.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_')));
    this.child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; this.check(); });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; this.check(); });
    this.exited = new Promise((resolve) => {
      // 'close' comes after both pipes are drained, so the output is complete.
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        for (const w of this.waiters.splice(0)) w.reject(new Error(`warren exited (${code ?? signal}) before ${w.re}:\n${this.stderr}`));
        resolve(this.exit);
      });
    });
  }

  /** Resolve when stdout or stderr matches. */
  waitFor(re: RegExp): Promise<RegExpExecArray> {
    const m = re.exec(this.stderr) ?? re.exec(this.stdout);
    if (m) return Promise.resolve(m);
    if (this.exit) return Promise.reject(new Error(`warren already exited before ${re}:\n${this.stderr}`));
    return new Promise((resolve, reject) => this.waiters.push({ re, resolve, reject }));
  }

  /** Wait for the startup line; the port it shows (and the TLS port, when there is a TLS listener). */
  async started(): Promise<{ port: number; host: string; data: string; version: string; tlsPort: number | undefined }> {
    const m = await this.waitFor(STARTUP);
    return { version: m[1]!, host: m[2]!, port: Number(m[3]), tlsPort: m[4] === undefined ? undefined : Number(m[4]), data: m[5]! };
  }

  signal(sig: NodeJS.Signals): void {
    if (this.exit === undefined) this.child.kill(sig);
  }

  private check(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      const m = w.re.exec(this.stderr) ?? w.re.exec(this.stdout);
      if (m) {
        this.waiters.splice(i, 1);
        w.resolve(m);
      }
    }
  }
}

