import { expect } from 'chai';
import amqp from 'amqplib';
import { brokerWithConnection, expectChannelClose } from '../support/broker.js';

describe('direct reply-to (amq.rabbitmq.reply-to)', () => {
  const ctx = brokerWithConnection();

  it('answers an RPC through the pseudo-queue without a reply queue', async () => {
    const server = await ctx.conn.createChannel();
    const { queue } = await server.assertQueue('', { exclusive: true });
    await server.consume(queue, (req) => {
      if (req === null) return;
      expect(req.properties.replyTo).to.match(/^amq\.rabbitmq\.reply-to\..+/);
      server.sendToQueue(req.properties.replyTo as string, Buffer.from(`pong:${req.content.toString()}`), {
        correlationId: req.properties.correlationId as string,
      });
    }, { noAck: true });

    const client = await ctx.conn.createChannel();
    const reply = new Promise<amqp.ConsumeMessage>((resolve) => {
      void client.consume('amq.rabbitmq.reply-to', (m) => { if (m) resolve(m); }, { noAck: true });
    });
    // The consume must be registered before the request names it.
    await client.checkQueue('amq.rabbitmq.reply-to');
    client.sendToQueue(queue, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c1' });
    const m = await reply;
    expect(m.content.toString()).to.equal('pong:ping');
    expect(m.properties.correlationId).to.equal('c1');
    await client.close();
    await server.close();
  });

  it('refuses a reply-to consumer that acks (406) and a request without a reply consumer (406)', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: false }));
    expect(close).to.deep.equal({ code: 406, text: 'PRECONDITION_FAILED - reply consumer cannot acknowledge' });
    const ch2 = await ctx.conn.createChannel();
    const close2 = await expectChannelClose(ch2, () => ch2.sendToQueue('anything', Buffer.from('x'), { replyTo: 'amq.rabbitmq.reply-to' }));
    expect(close2).to.deep.equal({ code: 406, text: 'PRECONDITION_FAILED - fast reply consumer does not exist' });
  });

  it('drops replies for a reply consumer that is gone (mandatory: returned)', async () => {
    const ch = await ctx.conn.createChannel();
    const returned = new Promise<amqp.Message>((resolve) => ch.once('return', resolve));
    ch.publish('', 'amq.rabbitmq.reply-to.nobody', Buffer.from('late'), { mandatory: true });
    const m = await returned;
    expect(m.fields).to.include({ replyCode: 312, routingKey: 'amq.rabbitmq.reply-to.nobody' });
    await ch.close();
  });
});
