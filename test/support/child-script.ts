/**
 * A node child process whose stdout is read line by line, for tests that run example programs
 * unchanged. Waits are for output lines or exit, never for time.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface ScriptOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
}

export class ScriptProcess {
  readonly lines: string[] = [];
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private partial = '';
  private readonly waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void; reject: (err: Error) => void }> = [];

  constructor(readonly script: string, readonly args: readonly string[], options: ScriptOptions) {
    this.child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.on('data', (chunk: string) => { this.stderr += chunk; });
    // 'close' (not 'exit'): stdout and stderr are fully read by then.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (this.partial !== '') this.addLine(this.partial);
        this.partial = '';
        this.exitCode = code;
        this.exitSignal = signal;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.describe()} exited before printing the expected line`));
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  /** Resolves with the first line (already printed or still to come) that matches. */
  waitForLine(match: string | RegExp | ((line: string) => boolean)): Promise<string> {
    const test = typeof match === 'string' ? (l: string) => l === match
      : match instanceof RegExp ? (l: string) => match.test(l) : match;
    const found = this.lines.find(test);
    if (found !== undefined) return Promise.resolve(found);
    if (!this.running) return Promise.reject(new Error(`${this.describe()} exited before printing the expected line`));
    return new Promise((resolve, reject) => this.waiters.push({ match: test, resolve, reject }));
  }

  /** Wait for the process to end by itself; fails unless it exits with code 0. */
  async succeeds(): Promise<string[]> {
    await this.exited;
    if (this.exitCode !== 0) throw new Error(`${this.describe()} failed`);
    return this.lines;
  }

  /** Ctrl+C: the tutorial consumers close their channel and connection on SIGINT, then exit. */
  async interrupt(): Promise<void> {
    if (this.running) this.child.kill('SIGINT');
    await this.exited;
  }

  /** Last resort for cleanup. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  describe(): string {
    return `${this.script} ${this.args.join(' ')} (exit ${this.exitCode ?? this.exitSignal ?? 'running'}; stdout ${JSON.stringify(this.lines)}; stderr ${JSON.stringify(this.stderr)})`;
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) this.addLine(line);
  }

  private addLine(line: string): void {
    this.lines.push(line);
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      if (w.match(line)) {
        this.waiters.splice(i, 1);
        w.resolve(line);
      } else {
        i++;
      }
    }
  }
}
