/**
 * The `warren` command's TLS options (RabbitMQ's listeners.ssl.default and ssl_options.*) as users run
 * them: flags, WARREN_* variables and a config file; the startup line naming the amqps port; a bad
 * certificate setting stopping startup with exit 1 and a one-line reason.
 */
import { expect } from 'chai';
import amqp from 'amqplib';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, WarrenProcess } from '../support/warren-process.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'tls');
const CERT = path.join(FIXTURES, 'server.pem');
const KEY = path.join(FIXTURES, 'server.key');
const CA_FILE = path.join(FIXTURES, 'ca.pem');
const CA = fs.readFileSync(CA_FILE);

async function roundTrip(url: string, options: Record<string, unknown>, body: string): Promise<string> {
  const conn = await amqp.connect(url, options);
  try {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from(body));
    return await new Promise<string>((resolve, reject) => {
      ch.consume(queue, (m) => { if (m) resolve(m.content.toString()); }, { noAck: true }).catch(reject);
    });
  } finally {
    await conn.close();
  }
}

describe('warren command: TLS options', function () {
  this.timeout(30000);
  const processes: WarrenProcess[] = [];
  const dirs: string[] = [];
  const BASE = ['--port', '0', '--host', '127.0.0.1', '--store', 'memory'];

  function warren(args: string[], env?: Record<string, string>): WarrenProcess {
    const p = new WarrenProcess(args, env);
    processes.push(p);
    return p;
  }

  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.signal('SIGKILL');
      await p.exited;
    }
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('--tls-port 0 --tls-cert --tls-key: the startup line names both listeners; amqps works; SIGTERM exits 0', async () => {
    const p = warren([...BASE, '--tls-port', '0', '--tls-cert', CERT, '--tls-key', KEY]);
    const { port, tlsPort } = await p.started();
    expect(tlsPort).to.be.a('number').greaterThan(0);
    expect(tlsPort).to.not.equal(port);
    expect(p.stderr).to.match(new RegExp(`listening on amqp://127\\.0\\.0\\.1:${port} and amqps://127\\.0\\.0\\.1:${tlsPort}, data in memory`));
    expect(await roundTrip(`amqps://guest:guest@127.0.0.1:${tlsPort}`, { ca: [CA] }, 'over tls')).to.equal('over tls');
    expect(await roundTrip(`amqp://guest:guest@127.0.0.1:${port}`, {}, 'plain')).to.equal('plain');
    await p.waitFor(/connection accepted .*peer=127\.0\.0\.1:\d+ tls=TLSv1\.[23]/);
    p.signal('SIGTERM');
    expect(await p.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('takes the TLS settings from WARREN_* variables and from a config file (paths relative to it)', async () => {
    const env = warren(BASE, { WARREN_TLS_PORT: '0', WARREN_TLS_CERT: CERT, WARREN_TLS_KEY: KEY });
    const fromEnv = await env.started();
    expect(await roundTrip(`amqps://guest:guest@127.0.0.1:${fromEnv.tlsPort}`, { ca: [CA] }, 'env')).to.equal('env');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warren-cli-tls-'));
    dirs.push(dir);
    for (const name of ['server.pem', 'server-encrypted.key', 'ca.pem', 'client.pem', 'client.key']) {
      fs.copyFileSync(path.join(FIXTURES, name), path.join(dir, name));
    }
    const file = path.join(dir, 'warren.json');
    fs.writeFileSync(file, JSON.stringify({
      listeners: { ssl: { default: 0 } },
      ssl_options: {
        certfile: 'server.pem', keyfile: 'server-encrypted.key', password: 'warren-test', cacertfile: 'ca.pem',
        verify: 'verify_peer', fail_if_no_peer_cert: true,
      },
    }));
    const conf = warren([...BASE, '--config', file]);
    const fromFile = await conf.started();
    const url = `amqps://guest:guest@127.0.0.1:${fromFile.tlsPort}`;
    const client = { ca: [CA], cert: fs.readFileSync(path.join(dir, 'client.pem')), key: fs.readFileSync(path.join(dir, 'client.key')) };
    expect(await roundTrip(url, client, 'mutual')).to.equal('mutual');
    // fail_if_no_peer_cert: without a client certificate, the TLS handshake itself fails.
    const refused = await amqp.connect(url, { ca: [CA] }).then(() => null, (e: Error) => e);
    expect(refused?.message).to.match(/certificate required/);
    await conf.waitFor(/TLS handshake failed: peer did not return a certificate/);
  });

  it('exits 1 with a one-line reason naming the file or the missing option', async () => {
    const missing = path.join(FIXTURES, 'no-such-cert.pem');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--tls-port', '0', '--tls-cert', missing, '--tls-key', KEY], {},
        new RegExp(`^warren: TLS certificate file ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no such file\\n$`)],
      [['--tls-port', '0', '--tls-cert', CERT], {},
        /^warren: --tls-port needs --tls-cert and --tls-key \(ssl_options\.certfile and ssl_options\.keyfile\)\n$/],
      [['--tls-port', '0', '--tls-cert', CERT, '--tls-key', KEY, '--tls-fail-if-no-peer-cert'], {},
        /^warren: --tls-fail-if-no-peer-cert needs --tls-verify-peer/],
      [['--tls-port', '0', '--tls-cert', CERT, '--tls-key', path.join(FIXTURES, 'client.key')], {},
        /^warren: TLS key file .*client\.key: the key does not belong to the certificate in TLS certificate file .*server\.pem\n$/],
      [['--tls-port', '0', '--tls-cert', CERT, '--tls-key', path.join(FIXTURES, 'server-encrypted.key')], { WARREN_TLS_KEY_PASSWORD: 'wrong' },
        /^warren: TLS key file .*server-encrypted\.key: cannot decrypt the key \(wrong password\?\)\n$/],
      [['--tls-port', '0', '--tls-cert', CERT, '--tls-key', KEY, '--tls-ca', KEY], {},
        /^warren: TLS CA file .*server\.key: no PEM certificate in it\n$/],
      [['--tls-port', 'x'], {}, /^warren: --tls-port: "x" is not a port number \(0-65535\)\n$/],
    ];
    for (const [args, env, reason] of cases) {
      const p = warren([...BASE, ...args], env);
      expect(await p.exited, args.join(' ')).to.deep.equal({ code: 1, signal: null });
      expect(p.stderr, args.join(' ')).to.match(reason);
      expect(p.stderr).to.not.match(/listening on/);
      expect(p.stdout).to.equal('');
    }
  });

  it('exits 1 naming the TLS port when it is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const p = warren([...BASE, '--tls-port', String(port), '--tls-cert', CERT, '--tls-key', KEY]);
      expect(await p.exited).to.deep.equal({ code: 1, signal: null });
      expect(p.stderr).to.match(new RegExp(`^warren: port ${port} on 127\\.0\\.0\\.1 is already in use\\n$`, 'm'));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
