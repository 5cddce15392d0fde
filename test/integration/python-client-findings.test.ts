/**
 * Differences from RabbitMQ 3.10 found by running the Python clients (pika 1.2, py-amqp 5.1, the client
 * under kombu and Celery) against Warren and RabbitMQ side by side (test/clients/python_clients.py,
 * test/clients/python-clients.sh). Each test fails without its fix.
 */
import amqp from 'amqplib';
import { expect } from 'chai';
import { type CloseInfo, parseClose, startTestBroker, type TestBroker } from '../support/broker.js';
import { type ParsedFrame, methodFrame, methods, rawFrame } from '../support/frame-builder.js';
import { RawPeer, decodeClose } from '../support/raw-peer.js';

/** The next method frame's channel and class/method ids (skipping content and heartbeats). */
async function nextMethod(peer: RawPeer): Promise<{ channel: number; id: string; frame: ParsedFrame }> {
  for (;;) {
    const f = await peer.nextFrame();
    if (f === null) throw new Error('connection ended while waiting for a method');
    if (f.type === 1) return { channel: f.channel, id: `${f.payload.readUInt16BE(0)}/${f.payload.readUInt16BE(2)}`, frame: f };
  }
}

const queueDelete = (channel: number, queue: string): Buffer =>
  methodFrame(channel, 50, 40, [['short', 0], ['shortstr', queue], ['bits', [false, false, false]]]);

describe('Python client findings', () => {
  let broker: TestBroker;
  before(async () => { broker = await startTestBroker(); });
  after(async () => { await broker.close(); });

  /**
   * pika / py-amqp: basic_qos(prefetch_count=3, global_qos=True) then basic_qos(prefetch_count=5) (the
   * default global=False). rabbit_channel handles basic.qos global=false with unlimit_prefetch: the
   * channel-wide limit set before is lifted and only the per-consumer limit applies. Warren kept the
   * channel-wide 3, so two consumers got 3 messages where RabbitMQ delivers 10.
   */
  it('basic.qos global=false lifts the channel-wide prefetch set before it', async () => {
    const conn = await amqp.connect(broker.url);
    try {
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      for (let i = 0; i < 10; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
      await ch.prefetch(3, true);
      await ch.prefetch(5, false);
      await ch.consume(queue, () => undefined);
      await ch.consume(queue, () => undefined);
      // Frames are handled in order and a new consumer takes what its credit allows at once, so the
      // ready count seen by this declare is what the two consumers could not take.
      const { messageCount } = await ch.checkQueue(queue);
      expect(messageCount).to.equal(0);
    } finally {
      await conn.close();
    }
  });

  /**
   * py-amqp (and kombu's Queue.delete while consuming): RabbitMQ sends queue.delete-ok first and the
   * consumers' basic.cancel after it, on the deleting channel and on the connection's other channels.
   * Warren cancelled the consumers before replying, so py-amqp, still waiting for delete-ok, raised
   * ConsumerCancelled out of queue_delete() (no on_cancel handler) instead of returning.
   */
  it('answers queue.delete-ok before the basic.cancel of the queue\'s consumers', async () => {
    const peer = await RawPeer.open(broker.warren.port);
    try {
      peer.send(Buffer.concat([methods.channelOpen(1), methods.channelOpen(2)]));
      await peer.expectMethod(20, 11);
      await peer.expectMethod(20, 11);
      peer.send(methods.queueDeclare(1, 'py.delete-order', { exclusive: true }));
      await peer.expectMethod(50, 11);
      peer.send(Buffer.concat([methods.basicConsume(1, 'py.delete-order', 'same'), methods.basicConsume(2, 'py.delete-order', 'other')]));
      await peer.expectMethod(60, 21);
      await peer.expectMethod(60, 21);
      peer.send(queueDelete(1, 'py.delete-order'));
      const order = [await nextMethod(peer), await nextMethod(peer), await nextMethod(peer)];
      expect(order.map((m) => `${m.channel}:${m.id}`)).to.deep.equal(['1:50/41', '1:60/30', '2:60/30']);
    } finally {
      peer.destroy();
    }
  });

  /**
   * basic.consume arguments, checked by rabbit_amqqueue:check_consume_arguments (x-priority must be an
   * integer, x-cancel-on-ha-failover a bool) and by the classic queue type (x-stream-offset is for
   * streams): 406 closing the channel. Warren accepted any value (a pika user's
   * arguments={'x-priority': '10'} was silently treated as priority 0).
   */
  it('validates x-priority, x-cancel-on-ha-failover and x-stream-offset on basic.consume', async () => {
    const conn = await amqp.connect(broker.url);
    try {
      const setup = await conn.createChannel();
      const { queue } = await setup.assertQueue('', { exclusive: true });
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ 'x-priority': 'high' }, `invalid arg 'x-priority' for queue '${queue}' in vhost '/': "expected integer, got longstr"`],
        [{ 'x-priority': 1.5 }, `invalid arg 'x-priority' for queue '${queue}' in vhost '/': "expected integer, got double"`],
        [{ 'x-cancel-on-ha-failover': 'yes' }, `invalid arg 'x-cancel-on-ha-failover' for queue '${queue}' in vhost '/': {unacceptable_type,longstr}`],
        [{ 'x-stream-offset': 'first' }, `invalid arg 'x-stream-offset' for queue '${queue}' in vhost '/' of queue type rabbit_classic_queue`],
      ];
      for (const [args, text] of cases) {
        const ch = await conn.createChannel();
        const closed = new Promise<CloseInfo>((resolve) => ch.once('error', (err: Error) => resolve(parseClose(err))));
        const reply = await ch.consume(queue, () => undefined, { arguments: args }).then(() => 'consume-ok', () => 'refused');
        expect(reply, JSON.stringify(args)).to.equal('refused');
        expect(await closed).to.deep.equal({ code: 406, text: `PRECONDITION_FAILED - ${text}` });
      }
      const ok = await setup.consume(queue, () => undefined, { arguments: { 'x-priority': 7, 'x-cancel-on-ha-failover': true, 'x-other': 'x' } });
      expect(ok.consumerTag).to.match(/^amq\.ctag-/);
    } finally {
      await conn.close();
    }
  });

  /**
   * pika and py-amqp send a content header as one frame whatever its size, so headers larger than
   * frame_max produce an oversized frame. RabbitMQ closes the connection with
   * `501 FRAME_ERROR - type 2, all octets = <<>>: {frame_too_large,Size,FrameMax-8}` (rabbit_reader);
   * Warren's own wording differed.
   */
  it('closes an oversized frame with RabbitMQ\'s frame_too_large text', async () => {
    const peer = await RawPeer.open(broker.warren.port);
    try {
      peer.send(methods.channelOpen(1));
      await peer.expectMethod(20, 11);
      peer.send(rawFrame(2, 1, Buffer.alloc(0), { size: 200025, noEnd: true }));
      for (;;) {
        const f = await peer.nextFrame();
        if (f === null) throw new Error('connection ended without connection.close');
        if (f.type === 1 && f.payload.readUInt16BE(0) === 10 && f.payload.readUInt16BE(2) === 50) {
          expect(decodeClose(f)).to.deep.equal({
            channel: 0, replyCode: 501, replyText: 'FRAME_ERROR - type 2, all octets = <<>>: {frame_too_large,200025,131064}',
            classId: 0, methodId: 0,
          });
          break;
        }
      }
    } finally {
      peer.destroy();
    }
  });
});
