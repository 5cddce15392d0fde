/**
 * The published package as a user gets it: `npm pack`, install the tarball into an empty folder, then
 * `npx warren`, `require('warren-mq')`, `import 'warren-mq'` and the type declarations. Slow (npm), so
 * one `before` does the packing and installing for all tests.
 */
import { expect } from 'chai';
import amqp from 'amqplib';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** npm and npx without the developer's WARREN_* settings and without update nags. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WARREN_')));
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

describe('the npm package (npm pack, install, npx warren)', function () {
  this.timeout(180000);
  let tmp: string;
  let app: string;
  let files: string[];
  const children: ChildProcess[] = [];

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-package-'));
    const packed = await run(NPM, ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, env: cleanEnv() });
    const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = info[0]!.files.map((f) => f.path);
    app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'warren-consumer', version: '1.0.0', private: true }));
    // --ignore-scripts: classic-level ships prebuilt binaries, so its install script has nothing to do.
    await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', path.join(tmp, info[0]!.filename)], {
      cwd: app, env: cleanEnv(),
    });
  });

  after(async () => {
    for (const child of children.splice(0)) await stopGroup(child, 'SIGKILL');
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('holds the built code, declarations, bin and README, and no tests, sources or source maps', () => {
    for (const f of ['package.json', 'README.md', 'bin/warren', 'dist/src/index.js', 'dist/src/index.d.ts',
      'dist/src/cli/main.js', 'dist/src/warren.d.ts']) {
      expect(files, f).to.include(f);
    }
    const stray = files.filter((f) => !/^(package\.json|README\.md|bin\/warren|dist\/src\/.+\.(js|d\.ts))$/.test(f));
    expect(stray).to.deep.equal([]);
    expect(files.filter((f) => /\.test\.|\.map$/.test(f))).to.deep.equal([]);
  });

  it('holds every file package.json points at (main, types, bin, exports)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      main: string; types: string; bin: Record<string, string>; exports: Record<string, string | Record<string, string>>;
    };
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
    for (const entry of Object.values(pkg.exports)) targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
    for (const target of targets) expect(files, target).to.include(path.posix.normalize(target));
  });

  it('can be required from CommonJS and imported from ESM', async () => {
    fs.writeFileSync(path.join(app, 'use.cjs'), `const w = require('${PKG.name}');\nconsole.log(typeof w.startBroker, typeof w.Warren);\n`);
    fs.writeFileSync(path.join(app, 'use.mjs'), `import { startBroker, Warren } from '${PKG.name}';\nconsole.log(typeof startBroker, typeof Warren);\n`);
    const cjs = await run(process.execPath, ['use.cjs'], { cwd: app });
    const esm = await run(process.execPath, ['use.mjs'], { cwd: app });
    expect(cjs.stdout).to.equal('function function\n');
    expect(esm.stdout).to.equal('function function\n');
  });

  it('gives TypeScript consumers its declarations', async () => {
    fs.writeFileSync(path.join(app, 'use.ts'), [
      `import { startBroker, type BrokerConfig, type WarrenOptions } from '${PKG.name}';`,
      "const options: WarrenOptions = { port: 0, store: 'memory' };",
      'const config: Partial<BrokerConfig> = options;',
      'export async function main(): Promise<number> { const w = await startBroker(config); await w.close(); return w.port; }',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      files: ['use.ts'],
    }));
    const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app })
      .catch((err: { stdout?: string; message: string }) => ({ stdout: err.stdout ?? err.message, failed: true }));
    expect(tsc.stdout).to.equal('');
  });

  it('runs with npx warren: starts on port 0, round-trips a message, stops on SIGTERM', async () => {
    // Own process group (npx → sh → node), so the whole tree can be signalled and cleaned up together.
    const child = spawn(NPX, ['warren', '--port', '0', '--host', '127.0.0.1', '--store', 'memory'], {
      cwd: app, env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (s: string): void => {
        output += s;
        const m = /Warren (\S+) listening on amqp:\/\/127\.0\.0\.1:(\d+), data in memory/.exec(output);
        if (m) {
          expect(m[1]).to.equal(PKG.version);
          resolve(Number(m[2]));
        }
      };
      child.stdout!.setEncoding('utf8').on('data', onData);
      child.stderr!.setEncoding('utf8').on('data', onData);
      void closed.then(() => reject(new Error(`npx warren exited before starting:\n${output}`)));
    });

    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
    try {
      const ch = await conn.createChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      const got = new Promise<string>((resolve) => {
        void ch.consume(q.queue, (m) => { if (m) resolve(m.content.toString()); }, { noAck: true });
      });
      ch.sendToQueue(q.queue, Buffer.from('from the package'));
      expect(await got).to.equal('from the package');
    } finally {
      await conn.close();
    }

    await stopGroup(child, 'SIGTERM');
    await closed;
    expect(output).to.match(/received SIGTERM, shutting down/);
    expect(output).to.match(/ stopped\n/);
  });
});

function groupAlive(child: ChildProcess): boolean {
  try {
    process.kill(-child.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Signal the child's whole process group and wait for 'close': every process of the group (npm, sh,
 * node) holds the stdout/stderr pipes, so 'close' comes once the last of them has exited.
 */
async function stopGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.pid === undefined || !groupAlive(child)) return;
  const closed = child.stdout?.closed === true && child.stderr?.closed === true
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('close', () => resolve()));
  process.kill(-child.pid, signal);
  await closed;
}
