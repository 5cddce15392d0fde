/**
 * Backpressure end to end (ARCHITECTURE.md practice 10): a consumer that does not read its socket
 * stops receiving and its messages stay in the queue, not in the broker's write buffers; a publisher
 * that does not read what the broker sends back (basic.return, confirms) stops being read from.
 *
 * The peers that do not read are raw sockets with reading paused. (amqplib reads its socket in
 * 'readable' mode, where stream.pause() has no effect, so pausing an amqplib connection's stream does
 * not stop it reading.) A healthy amqplib connection drives the test: "the broker has settled" is
 * "a sample of its state did not change across a burst of round trips", so nothing here sleeps.
 */
import { expect } from 'chai';
import amqp from 'amqplib';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { methods, publishFrames } from '../support/frame-builder.js';
import { RawPeer } from '../support/raw-peer.js';
import { connectionForClientPort } from '../support/warren-internals.js';
import type { Connection } from '../../src/server/connection.js';

const N = 20000;
const BODY = 1024;
/** Connection.OUTBOUND_HIGH_WATER (512 KiB) plus one delivery: deliveries stop at the mark. */
const CONSUMER_BUFFER_BOUND = 512 * 1024 + 2 * BODY + 1024;
/**
 * What one event-loop turn can read before the pause takes effect: libuv reads up to 32 × 64 KiB per
 * poll, and every 1 KiB mandatory publish answered with a basic.return of the same size.
 */
const PUBLISHER_BUFFER_BOUND = 4 * 1024 * 1024;

/** Bytes the broker holds for this connection in user space: unflushed frames and the socket's queue. */
function buffered(c: Connection): number {
  return c.writer.pendingBytes + c.socket.writableLength;
}

describe('backpressure: peers that do not read', function () {
  this.timeout(60000);

  let broker: TestBroker;
  let conn: amqp.ChannelModel;
  let ch: amqp.ConfirmChannel;
  const peers: RawPeer[] = [];

  before(async () => {
    broker = await startTestBroker();
    conn = await amqp.connect(broker.url);
    ch = await conn.createConfirmChannel();
  });
  after(async () => {
    await conn.close();
    await broker.close();
  });
  afterEach(() => {
    for (const p of peers.splice(0)) p.destroy();
  });

  /**
   * Round trips on the healthy connection until `sample` gives the same answer across a burst of them:
   * the broker has done all it will do on its own. Each burst also shows the broker still serves others.
   */
  async function settled<T>(sample: () => T): Promise<T> {
    let last = JSON.stringify(sample());
    for (let attempt = 0; attempt < 100; attempt++) {
      for (let i = 0; i < 20; i++) await ch.checkExchange('amq.direct');
      const now = JSON.stringify(sample());
      if (now === last) return sample();
      last = now;
    }
    throw new Error(`broker did not settle: ${last}`);
  }

  function publishNumbered(queue: string, from: number, count: number): Promise<void> {
    for (let i = from; i < from + count; i++) {
      const body = Buffer.alloc(BODY);
      body.writeUInt32BE(i, 0);
      ch.sendToQueue(queue, body);
    }
    return ch.waitForConfirms();
  }

  async function rawPeer(): Promise<{ peer: RawPeer; server: Connection }> {
    const peer = await RawPeer.open(broker.warren.port);
    peers.push(peer);
    const server = connectionForClientPort(broker.warren, peer.socket.localPort!);
    expect(server, 'server side of the raw peer').to.not.equal(undefined);
    peer.send(methods.channelOpen(1));
    await peer.expectMethod(20, 11);
    return { peer, server: server! };
  }

  it('(a) stops delivering to a consumer that does not read: messages stay queued, buffers stay bounded; all arrive in order on resume', async () => {
    await ch.assertQueue('bp-slow', { durable: false });
    const queue = broker.warren.broker.vhost('/')!.queues.get('bp-slow')!;
    const { peer, server } = await rawPeer();
    peer.send(methods.basicConsume(1, 'bp-slow', 'bp-slow-tag', { noAck: true }));
    await peer.expectMethod(60, 21);
    peer.socket.pause();

    await publishNumbered('bp-slow', 0, N);
    const first = await settled(() => ({ queued: queue.messageCount, buffered: buffered(server) }));
    // What left the queue fits in the broker's bounded buffer plus the kernel's socket buffers (a few
    // MiB on loopback): most of the 20 MiB is still in the queue.
    expect(first.buffered, 'bytes buffered for the consumer').to.be.at.most(CONSUMER_BUFFER_BOUND);
    expect(first.queued, 'messages still queued').to.be.at.least(N / 2);
    expect(server.socket.isPaused(), 'blocked on a socket that is not draining').to.equal(true);

    // Another 20 MiB: none of it goes anywhere but the queue.
    await publishNumbered('bp-slow', N, N);
    const second = await settled(() => ({ queued: queue.messageCount, buffered: buffered(server) }));
    expect(second.queued).to.equal(first.queued + N);
    expect(second.buffered).to.equal(first.buffered);

    // Reading again: everything arrives, in publish order.
    peer.socket.resume();
    let received = 0;
    let outOfOrder = 0;
    while (received < 2 * N) {
      const f = await peer.nextFrame();
      if (f === null) throw new Error(`connection ended after ${received} deliveries`);
      if (f.type !== 3) continue;
      if (f.payload.readUInt32BE(0) !== received) outOfOrder++;
      received++;
    }
    expect(outOfOrder).to.equal(0);
    expect((await ch.checkQueue('bp-slow')).messageCount).to.equal(0);
    expect(buffered(server)).to.equal(0);
    await ch.deleteQueue('bp-slow');
  });

  it('(b) stops reading a publisher that does not read its basic.returns and confirms; catches up on resume', async () => {
    const { peer, server } = await rawPeer();
    peer.send(methods.confirmSelect(1));
    await peer.expectMethod(85, 11);
    peer.socket.pause();

    // Mandatory and unroutable: every publish comes back as basic.return + body, then its basic.ack.
    const one = publishFrames(1, 'amq.direct', 'no-such-route', Buffer.alloc(BODY, 7));
    const bitsAt = 7 + 4 + 2 + 1 + 'amq.direct'.length + 1 + 'no-such-route'.length;
    one[bitsAt] = 1; // mandatory
    const count = 2 * N;
    const stream = Buffer.concat(Array.from({ length: count }, () => one));
    peer.socket.write(stream);

    const state = await settled(() => ({ read: server.socket.bytesRead, buffered: buffered(server), paused: server.socket.isPaused() }));
    expect(state.paused, 'reading from the publisher paused').to.equal(true);
    expect(state.read, 'bytes read from the publisher').to.be.below(stream.length / 2);
    expect(state.buffered, 'bytes buffered for the publisher').to.be.at.most(PUBLISHER_BUFFER_BOUND);

    peer.socket.resume();
    let returns = 0;
    let lastAck = 0;
    while (lastAck < count) {
      const f = await peer.nextFrame();
      if (f === null) throw new Error(`connection ended after ${returns} returns, ack ${lastAck}`);
      if (f.type !== 1) continue;
      const cls = f.payload.readUInt16BE(0);
      const mth = f.payload.readUInt16BE(2);
      if (cls === 60 && mth === 50) returns++;
      else if (cls === 60 && mth === 80) lastAck = Number(f.payload.readBigUInt64BE(4));
      else if (cls === 60 && mth === 120) throw new Error(`nack for ${f.payload.readBigUInt64BE(4)}`);
    }
    expect(returns).to.equal(count);
    expect(server.socket.bytesRead).to.be.at.least(stream.length);
    expect(server.socket.isPaused()).to.equal(false);
  });

  it('(b) keeps reading a publisher that does not read its confirms: coalesced acks need no pause', async () => {
    await ch.assertQueue('bp-confirms', { durable: false });
    const queue = broker.warren.broker.vhost('/')!.queues.get('bp-confirms')!;
    const { peer, server } = await rawPeer();
    peer.send(methods.confirmSelect(1));
    await peer.expectMethod(85, 11);
    peer.socket.pause();

    const one = publishFrames(1, '', 'bp-confirms', Buffer.alloc(BODY, 3));
    const count = 2 * N;
    peer.socket.write(Buffer.concat(Array.from({ length: count }, () => one)));
    // The broker takes every message; what it owes the publisher is one basic.ack (multiple) per read.
    const state = await settled(() => ({ queued: queue.messageCount, buffered: buffered(server) }));
    expect(state.queued).to.equal(count);
    expect(state.buffered, 'bytes buffered for the publisher').to.be.below(64 * 1024);

    peer.socket.resume();
    let lastAck = 0;
    while (lastAck < count) {
      const f = await peer.nextFrame();
      if (f === null) throw new Error(`connection ended at ack ${lastAck}`);
      if (f.type === 1 && f.payload.readUInt16BE(0) === 60 && f.payload.readUInt16BE(2) === 80) {
        const tag = Number(f.payload.readBigUInt64BE(4));
        expect(tag).to.be.above(lastAck);
        lastAck = tag;
      }
    }
    expect(lastAck).to.equal(count);
    await ch.deleteQueue('bp-confirms');
  });
});
