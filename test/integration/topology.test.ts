import { expect } from 'chai';
import amqp from 'amqplib';
import { expectChannelClose, expectConnectionClose, brokerWithConnection } from '../support/broker.js';

describe('topology: exchanges, queues, bindings and their errors (amqplib)', () => {
  const ctx = brokerWithConnection();

  it('redeclares an exchange with the same properties; a different type is 406', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertExchange('topo-x', 'direct', { durable: false });
    await ch.assertExchange('topo-x', 'direct', { durable: false });
    const close = await expectChannelClose(ch, () => ch.assertExchange('topo-x', 'fanout', { durable: false }));
    expect(close).to.deep.equal({ code: 406, text: "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'topo-x' in vhost '/': received 'fanout' but current is 'direct'" });
  });

  it('passive declare of a missing exchange is 404', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.checkExchange('nope-x'));
    expect(close).to.deep.equal({ code: 404, text: "NOT_FOUND - no exchange 'nope-x' in vhost '/'" });
  });

  it('refuses new amq.* names (403) but accepts redeclaring amq.direct', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertExchange('amq.direct', 'direct', { durable: true });
    const close = await expectChannelClose(ch, () => ch.assertExchange('amq.mine', 'direct'));
    expect(close).to.deep.equal({ code: 403, text: "ACCESS_REFUSED - exchange name 'amq.mine' contains reserved prefix 'amq.*'" });
    const ch2 = await ctx.conn.createChannel();
    const close2 = await expectChannelClose(ch2, () => ch2.assertQueue('amq.q'));
    expect(close2).to.deep.equal({ code: 403, text: "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'" });
  });

  it('protects the default exchange (403)', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const close = await expectChannelClose(ch, () => ch.bindQueue(queue, '', 'k'));
    expect(close).to.deep.equal({ code: 403, text: 'ACCESS_REFUSED - operation not permitted on the default exchange' });
    const ch2 = await ctx.conn.createChannel();
    const close2 = await expectChannelClose(ch2, () => ch2.deleteExchange(''));
    expect(close2.code).to.equal(403);
  });

  it('an unknown exchange type closes the connection with 503', async () => {
    const c2 = await amqp.connect(ctx.broker.url);
    const ch = await c2.createChannel();
    ch.on('error', () => undefined);
    const close = await expectConnectionClose(c2, () => ch.assertExchange('weird', 'x-weird'));
    expect(close).to.deep.equal({ code: 503, text: "COMMAND_INVALID - unknown exchange type 'x-weird'" });
  });

  it('queue redeclare with a different durable flag is 406; passive declare of a missing queue is 404', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertQueue('topo-q', { durable: false });
    const close = await expectChannelClose(ch, () => ch.assertQueue('topo-q', { durable: true }));
    expect(close).to.deep.equal({ code: 406, text: "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'topo-q' in vhost '/': received 'true' but current is 'false'" });
    const ch2 = await ctx.conn.createChannel();
    const close2 = await expectChannelClose(ch2, () => ch2.checkQueue('nope-q'));
    expect(close2).to.deep.equal({ code: 404, text: "NOT_FOUND - no queue 'nope-q' in vhost '/'" });
    const ch3 = await ctx.conn.createChannel();
    await ch3.deleteQueue('topo-q');
    await ch3.close();
  });

  it('locks an exclusive queue to its connection (405) and deletes it with the connection', async () => {
    const owner = await amqp.connect(ctx.broker.url);
    const och = await owner.createChannel();
    await och.assertQueue('excl-q', { exclusive: true });
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.checkQueue('excl-q'));
    expect(close.code).to.equal(405);
    expect(close.text).to.match(/^RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'excl-q' in vhost '\/'/);
    await owner.close();
    const ch2 = await ctx.conn.createChannel();
    const gone = await expectChannelClose(ch2, () => ch2.checkQueue('excl-q'));
    expect(gone.code).to.equal(404);
  });

  it('deletes an auto-delete queue after its last consumer is cancelled', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertQueue('ad-q', { autoDelete: true });
    const { consumerTag } = await ch.consume('ad-q', () => undefined);
    await ch.cancel(consumerTag);
    const close = await expectChannelClose(ch, () => ch.checkQueue('ad-q'));
    expect(close.code).to.equal(404);
  });

  it('deletes an auto-delete exchange when its last binding goes', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertExchange('ad-x', 'fanout', { autoDelete: true, durable: false });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'ad-x', '');
    await ch.unbindQueue(queue, 'ad-x', '');
    const close = await expectChannelClose(ch, () => ch.checkExchange('ad-x'));
    expect(close.code).to.equal(404);
  });

  it('queue.delete if-unused / if-empty are 406; purge and delete report counts', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('a'));
    ch.sendToQueue(queue, Buffer.from('b'));
    const close = await expectChannelClose(ch, () => ch.deleteQueue(queue, { ifEmpty: true }));
    expect(close).to.deep.equal({ code: 406, text: `PRECONDITION_FAILED - queue '${queue}' in vhost '/' not empty` });
    const ch2 = await ctx.conn.createChannel();
    expect((await ch2.purgeQueue(queue)).messageCount).to.equal(2);
    ch2.sendToQueue(queue, Buffer.from('c'));
    expect((await ch2.deleteQueue(queue)).messageCount).to.equal(1);
    await ch2.close();
  });

  it('exchange.delete if-unused on a bound exchange is 406', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertExchange('bound-x', 'direct', { durable: false });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'bound-x', 'k');
    const close = await expectChannelClose(ch, () => ch.deleteExchange('bound-x', { ifUnused: true }));
    expect(close).to.deep.equal({ code: 406, text: "PRECONDITION_FAILED - exchange 'bound-x' in vhost '/' in use" });
  });

  it('binding to a missing queue or exchange is 404', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.bindQueue('missing-q', 'amq.direct', 'k'));
    expect(close).to.deep.equal({ code: 404, text: "NOT_FOUND - no queue 'missing-q' in vhost '/'" });
    const ch2 = await ctx.conn.createChannel();
    const { queue } = await ch2.assertQueue('', { exclusive: true });
    const close2 = await expectChannelClose(ch2, () => ch2.bindQueue(queue, 'missing-x', 'k'));
    expect(close2).to.deep.equal({ code: 404, text: "NOT_FOUND - no exchange 'missing-x' in vhost '/'" });
  });
});
