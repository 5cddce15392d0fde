/**
 * The mocha root-hook plugin (`--require warren-mq/mocha`): resolved through the package's exports, its
 * hooks in-process, and real mocha runs in a child process that must exit by themselves.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { expect } from 'chai';
import type {} from '../../src/mocha.js';
import type { WarrenBroker } from '../../src/embedded.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PLUGIN = path.join(PROJECT_ROOT, 'dist/src/mocha.js');
const MOCHA_BIN = path.join(PROJECT_ROOT, 'node_modules/mocha/bin/mocha.js');

/**
 * Compile-time check: the plugin's type augmentation types mocha's `this.warren` (without it, the
 * Context's index signature makes it `any`, and this assignment fails to compile).
 */
type IsAny<T> = 0 extends 1 & T ? true : false;
export const warrenIsTyped: IsAny<Mocha.Context['warren']> = false;

interface HookContext { warren?: WarrenBroker }
interface Hooks {
  beforeAll(this: HookContext): Promise<void>;
  afterAll(this: HookContext): Promise<void>;
}

describe('mocha plugin: --require warren-mq/mocha', () => {
  it("resolves as 'warren-mq/mocha' through package.json exports and exports mochaHooks", async () => {
    // Package self-reference: this file lies inside the warren-mq package, so its exports map applies.
    const plugin = await import('warren-mq/mocha' as string) as { mochaHooks: Hooks };
    expect(fileURLToPath(import.meta.resolve('warren-mq/mocha'))).to.equal(PLUGIN);
    expect(plugin.mochaHooks.beforeAll).to.be.a('function');
    expect(plugin.mochaHooks.afterAll).to.be.a('function');
  });

  it('beforeAll starts a broker, sets AMQP_URL and this.warren; afterAll closes it and unsets AMQP_URL', async () => {
    const { mochaHooks } = await import(PLUGIN) as { mochaHooks: Hooks };
    const saved = process.env.AMQP_URL;
    const ctx: HookContext = {};
    try {
      await mochaHooks.beforeAll.call(ctx);
      const broker = ctx.warren!;
      expect(process.env.AMQP_URL).to.equal(broker.url);
      const conn = await amqp.connect(process.env.AMQP_URL!, { noDelay: true });
      const closed = new Promise<number | undefined>((resolve) => {
        conn.on('error', () => undefined);
        conn.once('close', (err?: { code?: number }) => resolve(err?.code));
      });
      await mochaHooks.afterAll.call(ctx);
      expect(broker.closed).to.equal(true);
      expect(await closed).to.equal(320);
      expect(process.env.AMQP_URL).to.equal(undefined);
    } finally {
      await ctx.warren?.close();
      if (saved === undefined) delete process.env.AMQP_URL;
      else process.env.AMQP_URL = saved;
    }
  });

  describe('in a real mocha run (child process, no --exit)', function () {
    this.timeout(30000);
    let dir: string;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-mocha-plugin-'));
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      fs.mkdirSync(path.join(dir, 'node_modules'));
      fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules', 'amqplib'), path.join(dir, 'node_modules', 'amqplib'), 'dir');
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('gives every suite the broker, then closes it so mocha exits by itself', async () => {
      fs.writeFileSync(path.join(dir, 'a.test.js'), `
import assert from 'node:assert/strict';
import amqp from 'amqplib';
let rootUrl;
before(function () { rootUrl = process.env.AMQP_URL; });
it('has AMQP_URL pointing at this.warren', async function () {
  assert.match(process.env.AMQP_URL, /^amqp:\\/\\/guest:guest@127\\.0\\.0\\.1:\\d+$/);
  assert.equal(process.env.AMQP_URL, this.warren.url);
  const conn = await amqp.connect(process.env.AMQP_URL, { noDelay: true });
  const ch = await conn.createChannel();
  await ch.assertQueue('plugin-q');
  ch.sendToQueue('plugin-q', Buffer.from('x'));
  assert.equal((await this.warren.waitFor.messages('plugin-q', 1)).messageCount, 1);
  await conn.close();
});
describe('a nested suite', function () {
  beforeEach(function () { assert.equal(this.warren.url, rootUrl); });
  it('sees the same broker', function () {
    assert.equal(this.warren.queue('plugin-q').messageCount, 1);
  });
});
`);
      fs.writeFileSync(path.join(dir, 'b.test.js'), `
import assert from 'node:assert/strict';
it('shares the one broker of the run across files', function () {
  assert.ok(this.warren.queue('plugin-q'), 'a.test.js ran first and declared plugin-q on the same broker');
});
`);
      const result = await runMocha(dir, ['--require', PLUGIN, '--reporter', 'json', 'a.test.js', 'b.test.js']);
      expect(result.code, result.stderr).to.equal(0);
      const report = JSON.parse(result.stdout) as { stats: { passes: number; failures: number } };
      expect(report.stats).to.include({ passes: 3, failures: 0 });
    });

    it('closes the broker after failing tests too: mocha exits by itself with code 1', async () => {
      fs.writeFileSync(path.join(dir, 'fail.test.js'), `
import assert from 'node:assert/strict';
import amqp from 'amqplib';
let conn;
before(async function () { conn = await amqp.connect(process.env.AMQP_URL, { noDelay: true }); conn.on('error', () => {}); });
it('fails while a client is still connected', function () {
  assert.equal(1, 2);
});
`);
      const result = await runMocha(dir, ['--require', PLUGIN, '--reporter', 'json', 'fail.test.js']);
      expect(result.code).to.equal(1);
      const report = JSON.parse(result.stdout) as { stats: { passes: number; failures: number } };
      expect(report.stats).to.include({ passes: 0, failures: 1 });
    });
  });
});

interface RunResult { code: number | null; stdout: string; stderr: string }

/** Run mocha in `cwd`; a run still alive after 20 s has left a handle open and is killed. */
function runMocha(cwd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MOCHA_BIN, ...args], { cwd, timeout: 20000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err !== null && (err.killed || err.signal !== null)) {
        reject(new Error(`mocha did not exit by itself (killed after 20 s)\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr });
    });
  });
}
