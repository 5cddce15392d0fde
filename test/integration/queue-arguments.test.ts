import { expect } from 'chai';
import amqp from 'amqplib';
import { brokerWithConnection, collect, expectChannelClose } from '../support/broker.js';

describe('queue arguments: TTL, length limits, dead-lettering, expiry (amqplib)', () => {
  const ctx = brokerWithConnection();

  it('dead-letters expired messages (x-message-ttl) with an x-death header', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue: dead } = await ch.assertQueue('', { exclusive: true });
    const { queue } = await ch.assertQueue('', {
      exclusive: true, arguments: { 'x-message-ttl': 20, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead },
    });
    ch.sendToQueue(queue, Buffer.from('late'), { expiration: '10000' });
    const [m] = await collect(ch, dead, 1, { noAck: true });
    expect(m!.content.toString()).to.equal('late');
    const deaths = m!.properties.headers!['x-death'] as unknown as Array<Record<string, unknown>>;
    expect(deaths).to.have.length(1);
    expect(deaths[0]).to.include({ reason: 'expired', queue, exchange: '', count: 1, 'original-expiration': '10000' });
    expect(deaths[0]!['routing-keys']).to.deep.equal([queue]);
    expect(m!.properties.headers!['x-first-death-reason']).to.equal('expired');
    expect(m!.properties.expiration).to.equal(undefined);
  });

  it('expires a message by its own expiration property', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue: dead } = await ch.assertQueue('', { exclusive: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
    ch.sendToQueue(queue, Buffer.from('short'), { expiration: '5' });
    const [m] = await collect(ch, dead, 1, { noAck: true });
    expect(m!.content.toString()).to.equal('short');
  });

  it('dead-letters rejected messages', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue: dead } = await ch.assertQueue('', { exclusive: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
    ch.sendToQueue(queue, Buffer.from('bad'));
    const m = await ch.get(queue);
    ch.reject(m as amqp.GetMessage, false);
    const [d] = await collect(ch, dead, 1, { noAck: true });
    expect((d!.properties.headers!['x-death'] as unknown as Array<Record<string, unknown>>)[0]).to.include({ reason: 'rejected' });
  });

  it('x-max-length drops from the head (and dead-letters as maxlen)', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue: dead } = await ch.assertQueue('', { exclusive: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
    for (const s of ['1', '2', '3']) ch.sendToQueue(queue, Buffer.from(s));
    const [d] = await collect(ch, dead, 1, { noAck: true });
    expect(d!.content.toString()).to.equal('1');
    const left = await collect(ch, queue, 2, { noAck: true });
    expect(left.map((m) => m.content.toString())).to.deep.equal(['2', '3']);
  });

  it('refuses invalid argument values with 406 and RabbitMQ\'s text', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.assertQueue('bad-ttl', { arguments: { 'x-message-ttl': -1 } }));
    expect(close).to.deep.equal({ code: 406, text: "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'bad-ttl' in vhost '/': {value_negative,-1}" });
  });

  it('refuses unimplemented queue types with 540 naming the feature', async () => {
    const c2 = await amqp.connect(ctx.broker.url);
    const ch = await c2.createChannel();
    ch.on('error', () => undefined);
    const closed = new Promise<Error & { code?: number }>((resolve) => c2.once('error', resolve));
    ch.assertQueue('stream-q', { durable: true, arguments: { 'x-queue-type': 'stream' } }).catch(() => undefined);
    const err = await closed;
    expect(err.code).to.equal(540);
    expect(err.message).to.contain("queue type 'stream' is not supported");
  });

  it('x-expires deletes an unused queue', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertQueue('expiring-q', { arguments: { 'x-expires': 30 } });
    const deleted = new Promise<void>((resolve) => {
      ctx.broker.warren.broker.vhost('/')!.onQueueDeleted = (q) => { if (q.name === 'expiring-q') resolve(); };
    });
    await deleted;
    ctx.broker.warren.broker.vhost('/')!.onQueueDeleted = null;
    const close = await expectChannelClose(ch, () => ch.checkQueue('expiring-q'));
    expect(close.code).to.equal(404);
  });
});
