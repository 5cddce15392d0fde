import { expect } from 'chai';
import amqp from 'amqplib';
import { brokerWithConnection, collect, expectChannelClose } from '../support/broker.js';

type Rpc = { rpc(method: number, fields: object, expect: number): Promise<unknown> };
const TX_SELECT = 0x005a000a;
const TX_COMMIT = 0x005a0014;
const TX_ROLLBACK = 0x005a001e;

describe('publishing: routing, mandatory, confirms, transactions (amqplib)', () => {
  const ctx = brokerWithConnection({ maxMessageSize: 1024 });

  it('returns an unroutable mandatory message with 312 NO_ROUTE before its confirm', async () => {
    const ch = await ctx.conn.createConfirmChannel();
    const events: string[] = [];
    const returned = new Promise<amqp.Message>((resolve) => ch.once('return', (m: amqp.Message) => { events.push('return'); resolve(m); }));
    await new Promise<void>((resolve, reject) => {
      ch.publish('amq.direct', 'nowhere', Buffer.from('x'), { mandatory: true }, (err) => {
        events.push('ack');
        if (err) reject(err); else resolve();
      });
    });
    const m = await returned;
    expect(m.fields).to.include({ replyCode: 312, replyText: 'NO_ROUTE', exchange: 'amq.direct', routingKey: 'nowhere' });
    expect(events).to.deep.equal(['return', 'ack']);
    await ch.close();
  });

  it('confirms every publish (acks may cover several with multiple)', async () => {
    const ch = await ctx.conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    for (let i = 0; i < 500; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
    await ch.waitForConfirms();
    expect((await ch.checkQueue(queue)).messageCount).to.equal(500);
    await ch.close();
  });

  it('nacks a publish refused by x-overflow reject-publish', async () => {
    const ch = await ctx.conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const results: string[] = [];
    const publish = (): Promise<void> => new Promise((resolve) => {
      ch.sendToQueue(queue, Buffer.from('m'), {}, (err) => { results.push(err ? 'nack' : 'ack'); resolve(); });
    });
    await publish();
    await publish();
    expect(results).to.deep.equal(['ack', 'nack']);
    await ch.close();
  });

  it('holds transactional publishes until commit; rollback drops them', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    // amqplib has no tx API; its public rpc() sends any method and awaits the reply.
    const tx = (id: number): Promise<unknown> => (ch as unknown as Rpc).rpc(id, {}, id + 1);
    await tx(TX_SELECT);
    ch.sendToQueue(queue, Buffer.from('held'));
    expect((await ch.checkQueue(queue)).messageCount).to.equal(0);
    await tx(TX_COMMIT);
    expect((await ch.checkQueue(queue)).messageCount).to.equal(1);
    ch.sendToQueue(queue, Buffer.from('dropped'));
    await tx(TX_ROLLBACK);
    expect((await ch.checkQueue(queue)).messageCount).to.equal(1);
    // Acks in a transaction wait for commit too; a rollback makes the delivery unacked again.
    const m = await ch.get(queue);
    ch.ack(m as amqp.GetMessage);
    await tx(TX_ROLLBACK);
    ch.ack(m as amqp.GetMessage);
    await tx(TX_COMMIT);
    await ch.close();
  });

  it('closes the channel with 404 when publishing to a missing exchange', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.publish('no-such-exchange', '', Buffer.from('x')));
    expect(close).to.deep.equal({ code: 404, text: "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'" });
  });

  it('closes the channel with 403 when publishing to an internal exchange', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertExchange('internal-x', 'fanout', { internal: true, durable: false });
    const close = await expectChannelClose(ch, () => ch.publish('internal-x', '', Buffer.from('x')));
    expect(close).to.deep.equal({ code: 403, text: "ACCESS_REFUSED - cannot publish to internal exchange 'internal-x' in vhost '/'" });
  });

  it('closes the channel with 406 for a body over the configured maximum', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.sendToQueue('whatever', Buffer.alloc(2000)));
    expect(close).to.deep.equal({ code: 406, text: 'PRECONDITION_FAILED - message size 2000 is larger than configured max size 1024' });
  });

  it('refuses a user-id that is not the authenticated user (406)', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => ch.publish('amq.direct', 'k', Buffer.from('x'), { userId: 'bob' }));
    expect(close).to.deep.equal({ code: 406, text: "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'" });
  });

  it('routes through topic, fanout and exchange-to-exchange bindings once per queue', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.assertExchange('e2e-a', 'topic', { durable: false });
    await ch.assertExchange('e2e-b', 'fanout', { durable: false });
    await ch.bindExchange('e2e-b', 'e2e-a', 'stock.#');
    await ch.bindExchange('e2e-a', 'e2e-b', ''); // a loop
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'e2e-a', '*.nyse');
    await ch.bindQueue(queue, 'e2e-b', '');
    ch.publish('e2e-a', 'stock.nyse', Buffer.from('once'));
    ch.publish('e2e-a', 'bond.nyse', Buffer.from('direct-topic'));
    const got = await collect(ch, queue, 2, { noAck: true });
    expect(got.map((m) => m.content.toString())).to.deep.equal(['once', 'direct-topic']);
    expect((await ch.checkQueue(queue)).messageCount).to.equal(0);
    await ch.close();
  });
});
