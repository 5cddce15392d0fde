import { expect } from 'chai';
import amqp from 'amqplib';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { heartbeatFrame, methods } from '../support/frame-builder.js';
import { RawPeer } from '../support/raw-peer.js';

describe('handshake and channels (amqplib)', () => {
  let broker: TestBroker;
  before(async () => { broker = await startTestBroker(); });
  after(async () => { await broker.close(); });

  it('connects, opens a channel and closes cleanly', async () => {
    const conn = await amqp.connect(broker.url);
    const props = (conn.connection as unknown as { serverProperties: Record<string, unknown> }).serverProperties;
    // Introduced as the RabbitMQ release it follows, so clients enable RabbitMQ's extensions.
    expect(props.product).to.equal('RabbitMQ');
    expect(props.version).to.equal('3.10.8');
    expect(props.information).to.match(/^Warren \d+\.\d+\.\d+: /);
    expect(props.warren_version).to.match(/^\d+\.\d+\.\d+/);
    const ch = await conn.createChannel();
    await ch.close();
    await conn.close();
  });

  it('refuses a wrong password with 403 ACCESS_REFUSED', async () => {
    const url = broker.url.replace('guest:guest', 'guest:wrong');
    const err = await amqp.connect(url).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect(err!.message).to.match(/ACCESS_REFUSED|403/);
  });

  it('round-trips a message through a queue', async () => {
    const conn = await amqp.connect(broker.url);
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    expect(q.queue).to.match(/^amq\.gen-/);
    const got = new Promise<amqp.ConsumeMessage>((resolve) => {
      void ch.consume(q.queue, (m) => { if (m) resolve(m); }, { noAck: true });
    });
    ch.sendToQueue(q.queue, Buffer.from('hello'), { contentType: 'text/plain', headers: { a: 1 } });
    const m = await got;
    expect(m.content.toString()).to.equal('hello');
    expect(m.properties.contentType).to.equal('text/plain');
    expect(m.properties.headers).to.deep.equal({ a: 1 });
    await conn.close();
  });
});

describe('listening on IPv4 and IPv6', () => {
  it('serves 127.0.0.1, localhost and [::1] when listening on localhost', async () => {
    const broker = await startTestBroker({ host: 'localhost' });
    try {
      for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
        const conn = await amqp.connect(`amqp://guest:guest@${host}:${broker.warren.port}`);
        const ch = await conn.createChannel();
        const { queue } = await ch.assertQueue('', { exclusive: true });
        expect(queue, host).to.match(/^amq\.gen-/);
        await conn.close();
      }
    } finally {
      await broker.close();
    }
  });
});

describe('heartbeats (AMQP 0-9-1 §4.2.7)', () => {
  let broker: TestBroker;
  before(async () => { broker = await startTestBroker({ heartbeat: 1 }); });
  after(async () => { await broker.close(); });

  it('sends heartbeats on an idle connection and drops a peer silent for two intervals', async () => {
    const peer = await RawPeer.open(broker.warren.port, 131072, 2047, 1);
    const started = Date.now();
    // The server sends a heartbeat frame (type 8) while nothing else is going on ...
    for (;;) {
      const f = await peer.nextFrame();
      expect(f, 'connection still open').to.not.equal(null);
      if (f!.type === 8) break;
    }
    // ... and, as this peer never sends anything, closes the socket after about two intervals.
    await peer.socketClosed;
    const elapsed = Date.now() - started;
    expect(elapsed).to.be.within(1000, 4000);
  });

  it('keeps a peer that sends heartbeats', async () => {
    const peer = await RawPeer.open(broker.warren.port, 131072, 2047, 1);
    let beats = 0;
    // Answer each server heartbeat with one of ours for a few intervals; the connection must survive.
    while (beats < 4) {
      const f = await peer.nextFrame();
      expect(f, 'connection still open').to.not.equal(null);
      if (f!.type === 8) {
        beats++;
        peer.send(heartbeatFrame());
      }
    }
    peer.send(methods.channelOpen(1));
    await peer.expectMethod(20, 11);
    peer.destroy();
  });
});

describe('loopback users (RabbitMQ loopback_users)', () => {
  /** Start a broker whose accepted sockets claim to come from a remote address. */
  async function remoteLookingBroker(options: Parameters<typeof startTestBroker>[0] = {}): Promise<TestBroker> {
    const broker = await startTestBroker(options);
    const server = broker.warren.server as unknown as { accept(socket: import('node:net').Socket): void };
    const accept = server.accept.bind(server);
    server.accept = (socket) => {
      Object.defineProperty(socket, 'remoteAddress', { value: '10.1.2.3' });
      accept(socket);
    };
    return broker;
  }

  it('refuses guest from a non-loopback address with 403 and the reason', async () => {
    const broker = await remoteLookingBroker();
    try {
      const err = await amqp.connect(broker.url).then(() => null, (e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect(err!.message).to.contain("ACCESS_REFUSED - PLAIN login refused: user 'guest' can only connect via localhost");
    } finally {
      await broker.close();
    }
  });

  it('lets guest in from anywhere when loopbackUsers is empty', async () => {
    const broker = await remoteLookingBroker({ loopbackUsers: [] });
    try {
      const conn = await amqp.connect(broker.url);
      await conn.close();
    } finally {
      await broker.close();
    }
  });
});
