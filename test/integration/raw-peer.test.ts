import { expect } from 'chai';
import amqp from 'amqplib';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import {
  bodyFrame, contentHeaderFrame, basicProperties, heartbeatFrame, methodFrame, methods, protocolHeader, rawFrame,
} from '../support/frame-builder.js';
import { RawPeer } from '../support/raw-peer.js';

describe('illegal input from a raw peer: exact close codes, other connections unaffected', () => {
  let broker: TestBroker;
  let healthy: amqp.ChannelModel;
  let healthyChannel: amqp.Channel;

  before(async () => {
    broker = await startTestBroker();
    healthy = await amqp.connect(broker.url);
    healthyChannel = await healthy.createChannel();
  });
  after(async () => {
    await healthy.close();
    await broker.close();
  });

  afterEach(async () => {
    // The connection opened before the bad peer still works.
    const { queue } = await healthyChannel.assertQueue('', { exclusive: true });
    healthyChannel.sendToQueue(queue, Buffer.from('still here'));
    const m = await healthyChannel.get(queue, { noAck: true });
    expect(m && m.content.toString()).to.equal('still here');
    await healthyChannel.deleteQueue(queue);
  });

  it('answers a wrong protocol header with its own and closes', async () => {
    const peer = await RawPeer.connect(broker.warren.port);
    peer.send(Buffer.from('AMQP\x01\x01\x00\x0a', 'latin1'));
    await peer.socketClosed;
    expect(peer.rawPending.equals(protocolHeader())).to.equal(true);
  });

  it('answers HTTP garbage with the protocol header and closes', async () => {
    const peer = await RawPeer.connect(broker.warren.port);
    peer.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await peer.socketClosed;
    expect(peer.rawPending.equals(protocolHeader())).to.equal(true);
  });

  const cases: Array<[string, (p: RawPeer) => void, number, number?]> = [
    ['a bad frame-end octet', (p) => p.send(rawFrame(1, 1, Buffer.from([0, 20, 0, 10, 0]), { end: 0x00 })), 501],
    ['a frame larger than frame_max', (p) => p.send(Buffer.from([1, 0, 1, 0x00, 0x10, 0x00, 0x00])), 501],
    ['an unknown frame type', (p) => p.send(rawFrame(9, 0, Buffer.alloc(0))), 501],
    ['a truncated method', (p) => { p.send(methods.channelOpen(1)); p.send(rawFrame(1, 1, Buffer.from([0, 50, 0, 10, 0]))); }, 501],
    ['a method on an unopened channel', (p) => p.send(methods.basicQos(3, 10)), 504],
    ['a second channel.open', (p) => { p.send(methods.channelOpen(1)); p.send(methods.channelOpen(1)); }, 504],
    ['a content header with no method', (p) => { p.send(methods.channelOpen(1)); p.send(contentHeaderFrame(1, 60, 1, basicProperties({}))); }, 505],
    ['a body frame where a header is due', (p) => {
      p.send(methods.channelOpen(1));
      p.send(methods.basicPublish(1, 'amq.direct', 'k'));
      p.send(bodyFrame(1, 'x'));
    }, 505],
    ['a method where a body is due', (p) => {
      p.send(methods.channelOpen(1));
      p.send(methods.basicPublish(1, 'amq.direct', 'k'));
      p.send(contentHeaderFrame(1, 60, 5, basicProperties({})));
      p.send(methods.basicQos(1, 1));
    }, 505],
    ['a body longer than its header said', (p) => {
      p.send(methods.channelOpen(1));
      p.send(methods.basicPublish(1, 'amq.direct', 'k'));
      p.send(contentHeaderFrame(1, 60, 2, basicProperties({})));
      p.send(bodyFrame(1, 'toolong'));
    }, 501],
    ['a heartbeat on a channel other than 0', (p) => p.send(heartbeatFrame(1)), 505],
    ['a channel number above channel_max', (p) => p.send(methods.channelOpen(3000)), 530],
    ['an unknown method', (p) => { p.send(methods.channelOpen(1)); p.send(methodFrame(1, 60, 99)); }, 540],
    ['basic.publish with immediate=true', (p) => {
      p.send(methods.channelOpen(1));
      p.send(methods.basicPublish(1, 'amq.direct', 'k', false, true));
      p.send(contentHeaderFrame(1, 60, 1, basicProperties({})));
      p.send(bodyFrame(1, 'x'));
    }, 540],
    ['a content frame on channel 0', (p) => p.send(bodyFrame(0, 'x')), 505],
  ];

  for (const [what, send, code] of cases) {
    it(`closes the connection with ${code} for ${what}`, async () => {
      const peer = await RawPeer.open(broker.warren.port);
      send(peer);
      const close = await peer.expectClose();
      expect(close.channel).to.equal(0);
      expect(close.replyCode, close.replyText).to.equal(code);
      expect(close.replyText.length).to.be.greaterThan(0);
      await peer.socketClosed;
    });
  }

  it('drops a peer that connects and never completes the handshake (handshake_timeout)', async () => {
    const quick = await startTestBroker({ handshakeTimeout: 100 });
    try {
      const silent = await RawPeer.connect(quick.warren.port);
      const halfHeader = await RawPeer.connect(quick.warren.port);
      halfHeader.send(Buffer.from('AMQ'));
      await Promise.all([silent.socketClosed, halfHeader.socketClosed]);
      // An open connection is not affected by the timer.
      const open = await RawPeer.open(quick.warren.port);
      open.send(methods.channelOpen(1));
      await open.expectMethod(20, 11);
      open.destroy();
    } finally {
      await quick.close();
    }
  });

  it('closes only the channel for a soft error and keeps the connection', async () => {
    const peer = await RawPeer.open(broker.warren.port);
    peer.send(methods.channelOpen(1));
    peer.send(methods.queueDeclare(1, 'no-such-queue', { passive: true }));
    const close = await peer.expectClose();
    expect(close).to.deep.include({ channel: 1, replyCode: 404, classId: 50, methodId: 10 });
    // The connection still serves a new channel.
    peer.send(methods.channelOpen(2));
    await peer.expectMethod(20, 11);
    peer.destroy();
  });
});
