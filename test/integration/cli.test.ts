/**
 * The `warren` command as users run it: `node bin/warren ...` in a child process, on port 0 and a temp
 * data directory. Tests wait for lines on stderr and for exits, never for time.
 */
import { expect } from 'chai';
import amqp from 'amqplib';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, VERSION, WarrenProcess } from '../support/warren-process.js';

async function roundTrip(url: string, queue: string, body: string, persistent = false): Promise<string> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: persistent });
    await new Promise<void>((resolve, reject) => {
      ch.sendToQueue(queue, Buffer.from(body), { persistent }, (err) => (err ? reject(err) : resolve()));
    });
    const got = await new Promise<string>((resolve) => {
      void ch.consume(queue, (m) => { if (m) resolve(m.content.toString()); }, { noAck: true });
    });
    return got;
  } finally {
    await conn.close();
  }
}

describe('warren command (bin/warren)', function () {
  this.timeout(30000);
  const processes: WarrenProcess[] = [];
  const dirs: string[] = [];
  const servers: net.Server[] = [];

  function warren(args: string[], env?: Record<string, string>): WarrenProcess {
    const p = new WarrenProcess(args, env);
    processes.push(p);
    return p;
  }

  function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-cli-'));
    dirs.push(dir);
    return dir;
  }

  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.signal('SIGKILL');
      await p.exited;
    }
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('--version prints the version from package.json', async () => {
    const p = warren(['--version']);
    expect(await p.exited).to.deep.equal({ code: 0, signal: null });
    expect(p.stdout).to.equal(`${VERSION}\n`);
    expect(p.stderr).to.equal('');
  });

  it('--help lists every option with its environment variable', async () => {
    const p = warren(['--help']);
    expect(await p.exited).to.deep.equal({ code: 0, signal: null });
    for (const flag of ['--port', '--host', '--data-dir', '--store', '--fsync', '--log-level', '--log-format', '--config',
      '--default-user', '--default-pass', '--default-vhost', '--loopback-users', '--heartbeat', '--frame-max',
      '--channel-max', '--max-message-size', '--help', '--version']) {
      expect(p.stdout, flag).to.include(flag);
    }
    for (const env of ['WARREN_PORT', 'WARREN_HOST', 'WARREN_DATA_DIR', 'WARREN_LOG_LEVEL', 'WARREN_CONFIG']) {
      expect(p.stdout, env).to.include(env);
    }
  });

  it('exits 1 with a one-line reason on an unknown flag, a bad value or a bad config file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'warren.json');
    fs.writeFileSync(file, '{"heartbaet": 5}');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--bogus'], {}, /^warren: unknown option '--bogus' \(see warren --help\)\n$/],
      [['--port', 'http'], {}, /^warren: --port: "http" is not a port number \(0-65535\)\n$/],
      [[], { WARREN_LOG_LEVEL: 'loud' }, /^warren: WARREN_LOG_LEVEL: "loud" is not one of /],
      [['--config', file], {}, /^warren: config file .*warren\.json: heartbaet: unknown key/],
      [['--config', path.join(dir, 'nope.json')], {}, /^warren: config file .*nope\.json: no such file\n$/],
    ];
    for (const [args, env, reason] of cases) {
      const p = warren(args, env);
      expect(await p.exited, args.join(' ')).to.deep.equal({ code: 1, signal: null });
      expect(p.stderr, args.join(' ')).to.match(reason);
      expect(p.stderr.trimEnd().split('\n'), args.join(' ')).to.have.length(1);
      expect(p.stdout).to.equal('');
    }
  });

  it('starts on --port 0, shows the real port, serves amqplib, and exits 0 on SIGTERM (clients get 320)', async () => {
    const p = warren(['--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
    const { port, host, data, version } = await p.started();
    expect(version).to.equal(VERSION);
    expect(host).to.equal('127.0.0.1');
    expect(port).to.be.greaterThan(0);
    expect(data).to.equal('memory');
    expect(p.stderr.match(/listening on/g)).to.have.length(1);
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    expect(await roundTrip(url, 'cli-q', 'hello')).to.equal('hello');
    await p.waitFor(/connection opened .*client="?amqplib \d/);

    const conn = await amqp.connect(url);
    const closed = new Promise<{ code?: number }>((resolve) => conn.on('close', (err: { code?: number }) => resolve(err)));
    p.signal('SIGTERM');
    expect((await closed).code).to.equal(320);
    expect(await p.exited).to.deep.equal({ code: 0, signal: null });
    expect(p.stderr).to.match(/received SIGTERM, shutting down/);
    expect(p.stderr).to.match(/ stopped\n$/);
  });

  it('runs its helper threads (V8 workers, libuv pool) at nice 10 and its main thread at the process\'s own', async function () {
    if (process.platform !== 'linux') this.skip();
    const p = warren(['--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
    await p.started();
    const pid = p.child.pid!;
    // Field 19 of /proc/PID/task/TID/stat is the nice value; the command (field 2) has no spaces here.
    const nice = (tid: string): number => Number(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(' ')[18]);
    const helpers = fs.readdirSync(`/proc/${pid}/task`).filter((tid) => tid !== String(pid));
    expect(nice(String(pid))).to.equal(os.getPriority(process.pid));
    expect(helpers.length).to.be.greaterThan(0);
    expect(helpers.map(nice)).to.deep.equal(helpers.map(() => 10));
    p.signal('SIGTERM');
    expect(await p.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('exits 0 on SIGINT too', async () => {
    const p = warren(['--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
    await p.started();
    p.signal('SIGINT');
    expect(await p.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('keeps durable messages in --data-dir across a SIGTERM and restart', async () => {
    const dir = path.join(tempDir(), 'data');
    const first = warren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    const started = await first.started();
    expect(started.data).to.equal(dir);
    const url1 = `amqp://guest:guest@127.0.0.1:${started.port}`;
    const conn = await amqp.connect(url1);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('kept', { durable: true });
    await new Promise<void>((resolve, reject) => {
      ch.sendToQueue('kept', Buffer.from('survivor'), { persistent: true }, (err) => (err ? reject(err) : resolve()));
    });
    await conn.close();
    first.signal('SIGTERM');
    expect((await first.exited).code).to.equal(0);

    const second = warren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    const url2 = `amqp://guest:guest@127.0.0.1:${(await second.started()).port}`;
    const conn2 = await amqp.connect(url2);
    try {
      const ch2 = await conn2.createChannel();
      const m = await ch2.get('kept', { noAck: true });
      expect(m && m.content.toString()).to.equal('survivor');
    } finally {
      await conn2.close();
    }
  });

  it('exits 1 when the port is in use', async () => {
    const blocker = net.createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const p = warren(['--port', String(port), '--host', '127.0.0.1', '--store', 'memory']);
    expect(await p.exited).to.deep.equal({ code: 1, signal: null });
    expect(p.stderr).to.match(new RegExp(`^warren: port ${port} on 127\\.0\\.0\\.1 is already in use\\n$`, 'm'));
    expect(p.stderr).to.not.match(/listening on/);
  });

  it('exits 1 when another Warren holds the data directory', async () => {
    const dir = tempDir();
    const first = warren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    await first.started();
    const second = warren(['--port', '0', '--host', '127.0.0.1', '--data-dir', dir]);
    expect(await second.exited).to.deep.equal({ code: 1, signal: null });
    expect(second.stderr).to.match(/^warren: data directory .* is in use by another Warren/m);
    expect(second.stderr.split('\n').filter((l) => l.startsWith('warren: '))).to.have.length(1);
  });

  it('takes settings from a config file, the environment and flags, flags first', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'warren.json');
    fs.writeFileSync(file, JSON.stringify({
      listeners: { tcp: { default: '127.0.0.1:1' } }, // the flag below overrides the port
      default_user: 'file-user', default_pass: 'file-pass', store: 'level', data_dir: 'file-data',
    }));
    const p = warren(['--port', '0'], { WARREN_CONFIG: file, WARREN_STORE: 'memory', WARREN_DEFAULT_PASS: 'env-pass' });
    const { port, host, data } = await p.started();
    expect(host).to.equal('127.0.0.1');
    expect(data).to.equal('memory');
    expect(await roundTrip(`amqp://file-user:env-pass@127.0.0.1:${port}`, 'q', 'configured')).to.equal('configured');
    const refused = await amqp.connect(`amqp://file-user:file-pass@127.0.0.1:${port}`).then(() => null, (e: Error) => e);
    expect(refused).to.be.instanceOf(Error);
  });

  it('logs one JSON object per line with --log-format json', async () => {
    const p = warren(['--port', '0', '--host', '127.0.0.1', '--store', 'memory', '--log-format', 'json']);
    const { port } = await p.started();
    expect(await roundTrip(`amqp://guest:guest@127.0.0.1:${port}`, 'q', 'json')).to.equal('json');
    await p.waitFor(/"message":"connection closed"/);
    p.signal('SIGTERM');
    expect((await p.exited).code).to.equal(0);
    const lines = p.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.message === 'connection opened')).to.include({ user: 'guest' }).and.to.have.property('client').that.matches(/^amqplib \d/);
    expect(lines.find((l) => l.message === 'connection accepted')?.peer).to.match(/^127\.0\.0\.1:\d+$/);
    expect(lines.at(-1)).to.include({ level: 'info', message: 'stopped' });
  });

  it('exits at once, with 1, on a second signal during shutdown', async () => {
    const p = warren(['--port', '0', '--host', '127.0.0.1', '--store', 'memory']);
    const { port } = await p.started();
    // A client that never answers connection.close holds the shutdown open (the server's grace period).
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    await p.waitFor(/connection accepted/);
    try {
      p.signal('SIGTERM');
      await p.waitFor(/shutting down/);
      p.signal('SIGINT');
      expect(await p.exited).to.deep.equal({ code: 1, signal: null });
      expect(p.stderr).to.match(/^warren: SIGINT during shutdown, exiting without waiting for it to finish\n$/m);
      expect(p.stderr).to.not.match(/ stopped\n/);
    } finally {
      socket.destroy();
    }
  });
});
