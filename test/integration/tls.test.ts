/**
 * TLS (amqps) listeners, as RabbitMQ users configure them (listeners.ssl.default, ssl_options.*): real
 * clients (amqplib, @cloudamqp/amqp-client, rabbitmq-client) over TLS, verify_peer and
 * fail_if_no_peer_cert, failed handshakes that leave everyone else alone, the handshake timeout, and the
 * embedding API's `tls` option. Certificates are committed fixtures (test/fixtures/tls/README.md).
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import amqp from 'amqplib';
import { AMQPClient } from '@cloudamqp/amqp-client';
import { Connection as RabbitConnection } from 'rabbitmq-client';
import { startBroker, TlsSetupError, type WarrenBroker, type BrokerOptions } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import { ROOT } from '../support/warren-process.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'tls');
const file = (name: string): string => path.join(FIXTURES, name);
const pem = (name: string): Buffer => fs.readFileSync(file(name));
const CA = pem('ca.pem');
const CLIENT = { cert: pem('client.pem'), key: pem('client.key') };
const UNTRUSTED = { cert: pem('untrusted-client.pem'), key: pem('untrusted-client.key') };
const SERVER_TLS = { cert: file('server.pem'), key: file('server.key') };

/** The broker's log lines (text format, debug level), awaitable. */
class LogCapture {
  readonly lines: string[] = [];
  private readonly waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  readonly logger = createLogger('debug', 'text', new Writable({
    write: (chunk: Buffer, _enc, done): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        this.lines.push(line);
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          const w = this.waiters[i]!;
          if (w.re.test(line)) {
            this.waiters.splice(i, 1);
            w.resolve(line);
          }
        }
      }
      done();
    },
  }));

  waitFor(re: RegExp): Promise<string> {
    const line = this.lines.find((l) => re.test(l));
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }
}

interface Started {
  broker: WarrenBroker;
  log: LogCapture;
}

async function start(options: BrokerOptions = {}): Promise<Started> {
  const log = new LogCapture();
  const broker = await startBroker({ tls: SERVER_TLS, logger: log.logger, ...options });
  return { broker, log };
}

/** The rejection of a promise that must fail. */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** Declare a queue, publish one message, get it back: the connection works end to end. */
async function roundTrip(conn: amqp.ChannelModel, body: string): Promise<string> {
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, Buffer.from(body));
  const got = await new Promise<string>((resolve, reject) => {
    ch.consume(queue, (m) => { if (m) resolve(m.content.toString()); }, { noAck: true }).catch(reject);
  });
  await ch.close();
  return got;
}

/** The local port of an amqplib connection's socket (what the broker logs as the peer's port). */
function localPort(conn: amqp.ChannelModel): number {
  return (conn.connection as unknown as { stream: net.Socket }).stream.localPort!;
}

describe('TLS listeners (amqps)', function () {
  this.timeout(20000);
  const brokers: WarrenBroker[] = [];
  const sockets: net.Socket[] = [];
  const conns: amqp.ChannelModel[] = [];

  async function broker(options: BrokerOptions = {}): Promise<Started> {
    const s = await start(options);
    brokers.push(s.broker);
    return s;
  }

  async function connect(url: string, options: Record<string, unknown> = {}): Promise<amqp.ChannelModel> {
    const conn = await amqp.connect(url, { noDelay: true, ...options });
    conns.push(conn);
    return conn;
  }

  afterEach(async () => {
    for (const c of conns.splice(0)) await c.close().catch(() => undefined);
    for (const s of sockets.splice(0)) s.destroy();
    for (const b of brokers.splice(0)) await b.close();
  });

  describe('with the default verify_none', () => {
    let s: Started;
    beforeEach(async () => { s = await broker(); });

    it('exposes the TLS port and an amqps URL next to the plain ones', () => {
      expect(s.broker.tlsPort).to.be.a('number').greaterThan(0);
      expect(s.broker.tlsPort).to.not.equal(s.broker.port);
      expect(s.broker.tlsUrl).to.equal(`amqps://guest:guest@127.0.0.1:${s.broker.tlsPort}`);
      expect(s.broker.url).to.equal(`amqp://guest:guest@127.0.0.1:${s.broker.port}`);
    });

    it('amqplib verifies the server certificate against the CA and works over TLS; the log names the peer', async () => {
      const conn = await connect(s.broker.tlsUrl!, { ca: [CA] });
      expect(await roundTrip(conn, 'secret')).to.equal('secret');
      const line = await s.log.waitFor(new RegExp(`connection accepted .*peer=127\\.0\\.0\\.1:${localPort(conn)} `));
      expect(line).to.match(/ tls=TLSv1\.[23] cipher=\S+/);
      // guest is in loopback_users: the TLS peer's address is a loopback one, so the login went through.
      await s.log.waitFor(new RegExp(`connection opened .*peer=127\\.0\\.0\\.1:${localPort(conn)} user=guest`));
    });

    it('amqplib with rejectUnauthorized: false', async () => {
      const conn = await connect(s.broker.tlsUrl!, { rejectUnauthorized: false });
      expect(await roundTrip(conn, 'unverified')).to.equal('unverified');
    });

    it('amqplib without the CA refuses the server (its certificate is not publicly trusted); the broker carries on', async () => {
      const err = await rejection(amqp.connect(s.broker.tlsUrl!));
      expect(err.code).to.be.oneOf(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN']);
      await s.log.waitFor(/TLS handshake failed: .*peer=127\.0\.0\.1:\d+/);
      const conn = await connect(s.broker.tlsUrl!, { ca: [CA] });
      expect(await roundTrip(conn, 'after')).to.equal('after');
    });

    it('@cloudamqp/amqp-client with amqps://...?insecure=true', async () => {
      const client = new AMQPClient(`amqps://127.0.0.1:${s.broker.tlsPort}?insecure=true`);
      const conn = await client.connect();
      try {
        const ch = await conn.channel();
        const { name } = await ch.queueDeclare('', { exclusive: true });
        await ch.basicPublish('', name, 'from amqp-client');
        const msg = await ch.basicGet(name, { noAck: true });
        expect(msg?.bodyToString()).to.equal('from amqp-client');
      } finally {
        await client.close();
      }
    });

    it('@cloudamqp/amqp-client verifying the server with the CA', async () => {
      const client = new AMQPClient(`amqps://127.0.0.1:${s.broker.tlsPort}`, { ca: CA });
      const conn = await client.connect();
      try {
        const ch = await conn.channel();
        const { name } = await ch.queueDeclare('', { exclusive: true });
        expect(name).to.match(/^amq\.gen-/);
      } finally {
        await client.close();
      }
    });

    it('rabbitmq-client over TLS (tls: { ca })', async () => {
      const rabbit = new RabbitConnection({ url: s.broker.tlsUrl!, tls: { ca: CA }, retryLow: 50, retryHigh: 200 });
      try {
        const ch = await rabbit.acquire();
        const { queue } = await ch.queueDeclare({ exclusive: true });
        await ch.basicPublish({ routingKey: queue }, 'from rabbitmq-client');
        const m = await ch.basicGet({ queue, noAck: true });
        expect(m?.body).to.equal('from rabbitmq-client');
        await ch.close();
      } finally {
        await rabbit.close();
      }
    });

    it('a message published over TLS is consumed over plain TCP, and the other way round', async () => {
      const secure = await connect(s.broker.tlsUrl!, { ca: [CA] });
      const plain = await connect(s.broker.url);
      const sch = await secure.createChannel();
      const pch = await plain.createChannel();
      await sch.assertQueue('tls-crossing', { durable: false });

      const viaPlain = new Promise<string>((resolve, reject) => {
        pch.consume('tls-crossing', (m) => { if (m) resolve(m.content.toString()); }, { noAck: true }).catch(reject);
      });
      sch.sendToQueue('tls-crossing', Buffer.from('tls → tcp'));
      expect(await viaPlain).to.equal('tls → tcp');

      await sch.assertQueue('tcp-crossing', { durable: false });
      const viaTls = new Promise<string>((resolve, reject) => {
        sch.consume('tcp-crossing', (m) => { if (m) resolve(m.content.toString()); }, { noAck: true }).catch(reject);
      });
      pch.sendToQueue('tcp-crossing', Buffer.from('tcp → tls'));
      expect(await viaTls).to.equal('tcp → tls');
    });

    it('a plain AMQP client on the TLS port and a TLS client on the plain port fail; other connections carry on', async () => {
      const healthyTls = await connect(s.broker.tlsUrl!, { ca: [CA] });
      const healthyPlain = await connect(s.broker.url);
      const tlsChannel = await healthyTls.createChannel();
      const { queue } = await tlsChannel.assertQueue('', { exclusive: true });

      const plainOnTls = await rejection(amqp.connect(`amqp://guest:guest@127.0.0.1:${s.broker.tlsPort}`));
      expect(plainOnTls.message).to.match(/closed|ECONNRESET|handshake/i);
      await s.log.waitFor(/TLS handshake failed: .*\(not TLS: a plain AMQP client on the TLS port\?\)/);

      const tlsOnPlain = await rejection(amqp.connect(`amqps://guest:guest@127.0.0.1:${s.broker.port}`, { rejectUnauthorized: false }));
      expect(tlsOnPlain.message).to.match(/wrong version number|packet length|ECONNRESET|socket disconnected|closed/i);

      // A client that drops in the middle of the handshake: the ClientHello's first bytes, then gone.
      const dropped = net.connect(s.broker.tlsPort!, '127.0.0.1');
      sockets.push(dropped);
      await new Promise((resolve) => dropped.once('connect', resolve));
      dropped.end(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
      await new Promise((resolve) => dropped.once('close', resolve));

      tlsChannel.sendToQueue(queue, Buffer.from('still here'));
      const m = await tlsChannel.get(queue, { noAck: true });
      expect(m && m.content.toString()).to.equal('still here');
      expect(await roundTrip(healthyPlain, 'plain too')).to.equal('plain too');
      expect(s.broker.connectionCount).to.equal(2);
    });

    it('closes TLS clients with 320 CONNECTION_FORCED on close(), and drops peers still in the handshake at once', async () => {
      const conn = await amqp.connect(s.broker.tlsUrl!, { ca: [CA] });
      const closed = new Promise<{ code?: number }>((resolve) => conn.on('close', (err: { code?: number }) => resolve(err)));
      // Silent in the handshake: with the default handshake timeout (10 s), close() must not wait for it.
      const silent = net.connect(s.broker.tlsPort!, '127.0.0.1');
      sockets.push(silent);
      await new Promise((resolve) => silent.once('connect', resolve));
      const silentClosed = new Promise((resolve) => silent.once('close', resolve));
      await s.broker.close();
      expect((await closed).code).to.equal(320);
      await silentClosed;
    });
  });

  it('drops a peer that opens TCP to the TLS port and sends nothing, after the handshake timeout', async () => {
    const { broker: b, log } = await broker({ handshakeTimeout: 300 });
    const peer = net.connect(b.tlsPort!, '127.0.0.1');
    sockets.push(peer);
    await new Promise((resolve) => peer.once('connect', resolve));
    const opened = Date.now();
    await new Promise((resolve) => peer.once('close', resolve));
    expect(Date.now() - opened).to.be.at.least(250);
    await log.waitFor(/TLS handshake failed: TLS handshake timeout .*peer=127\.0\.0\.1:\d+/);
    // The listener still serves.
    const conn = await connect(b.tlsUrl!, { ca: [CA] });
    expect(await roundTrip(conn, 'after a timeout')).to.equal('after a timeout');
  });

  describe('verify_peer with fail_if_no_peer_cert', () => {
    let s: Started;
    beforeEach(async () => {
      s = await broker({ tls: { ...SERVER_TLS, ca: file('ca.pem'), verifyPeer: true, failIfNoPeerCert: true } });
    });

    it('refuses a client without a certificate at the TLS layer', async () => {
      const err = await rejection(amqp.connect(s.broker.tlsUrl!, { ca: [CA] }));
      expect(err.message).to.match(/certificate required|alert|socket|closed|ECONNRESET/i);
      await s.log.waitFor(/TLS handshake failed: .*certificate/);
      expect(s.broker.connectionCount).to.equal(0);
    });

    it('lets a client with a certificate signed by the CA in, and logs its name', async () => {
      const conn = await connect(s.broker.tlsUrl!, { ca: [CA], ...CLIENT });
      expect(await roundTrip(conn, 'mutual')).to.equal('mutual');
      await s.log.waitFor(/connection accepted .*clientCert=warren-test-client/);
    });

    it('refuses a client certificate the CA did not sign', async () => {
      const err = await rejection(amqp.connect(s.broker.tlsUrl!, { ca: [CA], ...UNTRUSTED }));
      expect(err.message).to.match(/closed|ECONNRESET|socket|alert/i);
      await s.log.waitFor(/TLS client certificate refused: \S+ .*peer=127\.0\.0\.1:\d+/);
      expect(s.broker.connectionCount).to.equal(0);
    });
  });

  describe('verify_peer without fail_if_no_peer_cert', () => {
    let s: Started;
    beforeEach(async () => {
      s = await broker({ tls: { ...SERVER_TLS, ca: file('ca.pem'), verifyPeer: true } });
    });

    it('lets a client without a certificate in (RabbitMQ: fail_if_no_peer_cert = false)', async () => {
      const conn = await connect(s.broker.tlsUrl!, { ca: [CA] });
      expect(await roundTrip(conn, 'anonymous')).to.equal('anonymous');
    });

    it('lets a client with a valid certificate in', async () => {
      const conn = await connect(s.broker.tlsUrl!, { ca: [CA], ...CLIENT });
      expect(await roundTrip(conn, 'known')).to.equal('known');
    });

    it('refuses a certificate that does not verify, and says why', async () => {
      const err = await rejection(amqp.connect(s.broker.tlsUrl!, { ca: [CA], ...UNTRUSTED }));
      expect(err.message).to.match(/closed|ECONNRESET|socket/i);
      await s.log.waitFor(/TLS client certificate refused: \S+ .*peer=127\.0\.0\.1:\d+/);
      expect(s.broker.connectionCount).to.equal(0);
    });
  });

  describe('the embedding API', () => {
    it('takes the certificate and key as PEM text and Buffers, and an encrypted key with its password', async () => {
      const fromPem = await broker({ tls: { cert: pem('server.pem').toString('utf8'), key: pem('server.key') } });
      const c1 = await connect(fromPem.broker.tlsUrl!, { ca: [CA] });
      expect(await roundTrip(c1, 'pem')).to.equal('pem');
      const encrypted = await broker({ tls: { cert: file('server.pem'), key: file('server-encrypted.key'), keyPassword: 'warren-test' } });
      const c2 = await connect(encrypted.broker.tlsUrl!, { ca: [CA] });
      expect(await roundTrip(c2, 'encrypted')).to.equal('encrypted');
    });

    it('serves TLS on 127.0.0.1 and [::1] when listening on localhost (guest is a loopback user on both)', async () => {
      const { broker: b, log } = await broker({ host: 'localhost' });
      for (const host of ['127.0.0.1', '[::1]']) {
        const conn = await connect(`amqps://guest:guest@${host}:${b.tlsPort}`, { ca: [CA] });
        expect(await roundTrip(conn, host), host).to.equal(host);
      }
      await log.waitFor(/connection opened .*peer=\[::1\]:\d+ user=guest/);
    });

    it('has no TLS port or URL without the tls option', async () => {
      const b = await startBroker();
      brokers.push(b);
      expect(b.tlsPort).to.equal(undefined);
      expect(b.tlsUrl).to.equal(undefined);
    });

    it('refuses a tls option without cert or key, and a missing file, naming it', async () => {
      const noKey = await rejection(startBroker({ tls: { cert: file('server.pem') } as unknown as BrokerOptions['tls'] }));
      expect(noKey).to.be.instanceOf(TypeError);
      expect(noKey.message).to.equal('startBroker: tls needs cert and key (file names or PEM)');
      const missing = await rejection(startBroker({ tls: { cert: file('nope.pem'), key: file('server.key') } }));
      expect(missing).to.be.instanceOf(TlsSetupError);
      expect(missing.message).to.equal(`TLS certificate file ${file('nope.pem')}: no such file`);
      const mismatch = await rejection(startBroker({ tls: { cert: file('server.pem'), key: file('client.key') } }));
      expect(mismatch.message).to.match(/^TLS key file .*client\.key: the key does not belong to the certificate/);
      const wrongPassword = await rejection(startBroker({ tls: { cert: file('server.pem'), key: file('server-encrypted.key'), keyPassword: 'no' } }));
      expect(wrongPassword.message).to.match(/server-encrypted\.key: cannot decrypt the key/);
      const noPassword = await rejection(startBroker({ tls: { cert: file('server.pem'), key: file('server-encrypted.key') } }));
      expect(noPassword.message).to.match(/server-encrypted\.key: the key is encrypted and no password was given/);
      const loneFail = await rejection(startBroker({ tls: { ...SERVER_TLS, failIfNoPeerCert: true } }));
      expect(loneFail.message).to.match(/fail_if_no_peer_cert needs verify_peer/);
    });

    it('fails to start when the TLS port is taken, leaving no listener behind', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      try {
        const servers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
        const before = servers();
        const port = (blocker.address() as net.AddressInfo).port;
        const err = await rejection(startBroker({ tls: { ...SERVER_TLS, port } }));
        expect(err.code).to.equal('EADDRINUSE');
        expect(servers()).to.equal(before);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });
  });

  it('carries large messages and bursts through TLS (frame splitting, write backpressure, paused reads)', async () => {
    const { broker: b } = await broker();
    const conn = await connect(b.tlsUrl!, { ca: [CA] });
    const pub = await conn.createConfirmChannel();
    const sub = await conn.createChannel();
    const { queue } = await pub.assertQueue('', { exclusive: true });
    const big = Buffer.alloc(2 * 1024 * 1024, 7);
    const count = 200;
    const bodies = Array.from({ length: count }, (_, i) => Buffer.alloc(64 * 1024, i));
    await sub.prefetch(10);
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      sub.consume(queue, (m) => {
        if (!m) return;
        received.push(m.content);
        sub.ack(m);
        if (received.length === count + 1) resolve();
      }).catch(reject);
    });
    pub.sendToQueue(queue, big);
    for (const body of bodies) pub.sendToQueue(queue, body);
    await pub.waitForConfirms();
    await done;
    expect(received[0]!.equals(big)).to.equal(true);
    for (let i = 0; i < count; i++) expect(received[i + 1]!.equals(bodies[i]!), `message ${i}`).to.equal(true);
  });
});
