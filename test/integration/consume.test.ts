import { expect } from 'chai';
import amqp from 'amqplib';
import { brokerWithConnection, collect, expectChannelClose } from '../support/broker.js';

describe('consuming: delivery, prefetch, acks and requeue (amqplib)', () => {
  const ctx = brokerWithConnection();

  async function freshQueue(ch: amqp.Channel, messages: number): Promise<string> {
    const { queue } = await ch.assertQueue('', { exclusive: true });
    for (let i = 0; i < messages; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
    return queue;
  }

  it('delivers in publish order and acks with multiple', async () => {
    const ch = await ctx.conn.createChannel();
    const q = await freshQueue(ch, 10);
    const msgs = await collect(ch, q, 10);
    expect(msgs.map((m) => m.content.toString())).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    ch.ack(msgs[9]!, true);
    const check = await ch.checkQueue(q);
    expect(check.messageCount).to.equal(0);
    await ch.close();
  });

  it('round-robins between consumers and respects per-consumer prefetch', async () => {
    const ch = await ctx.conn.createChannel();
    await ch.prefetch(1);
    const q = await freshQueue(ch, 4);
    const a: string[] = [];
    const b: string[] = [];
    const both = new Promise<void>((resolve) => {
      const done = (): void => { if (a.length + b.length === 2) resolve(); };
      void ch.consume(q, (m) => { if (m) { a.push(m.content.toString()); done(); } });
      void ch.consume(q, (m) => { if (m) { b.push(m.content.toString()); done(); } });
    });
    await both;
    // Prefetch 1 each, nothing acked: exactly one message each, the first two in order.
    expect([...a, ...b].sort()).to.deep.equal(['0', '1']);
    expect(a).to.have.length(1);
    expect(b).to.have.length(1);
    const check = await ch.checkQueue(q);
    expect(check.messageCount).to.equal(2);
    expect(check.consumerCount).to.equal(2);
    await ch.close();
  });

  it('puts nacked messages back at their original position, marked redelivered', async () => {
    const ch = await ctx.conn.createChannel();
    const q = await freshQueue(ch, 5);
    const first = await collect(ch, q, 5);
    await ch.cancel(first[0]!.fields.consumerTag);
    // Nack 1 and 3 back; they must come before 4 is... all five are unacked: nack 3 then 1.
    ch.nack(first[3]!, false, true);
    ch.nack(first[1]!, false, true);
    const again = await collect(ch, q, 2);
    expect(again.map((m) => m.content.toString())).to.deep.equal(['1', '3']);
    expect(again.every((m) => m.fields.redelivered)).to.equal(true);
    await ch.close();
  });

  it('requeues unacked messages in order when a channel closes', async () => {
    const ch1 = await ctx.conn.createChannel();
    const q = await freshQueue(ch1, 3);
    const ch2 = await ctx.conn.createChannel();
    await collect(ch2, q, 3);
    await ch2.close();
    const back = await collect(ch1, q, 3);
    expect(back.map((m) => m.content.toString())).to.deep.equal(['0', '1', '2']);
    expect(back.every((m) => m.fields.redelivered)).to.equal(true);
    await ch1.close();
  });

  it('basic.get returns the remaining count and get-empty when empty', async () => {
    const ch = await ctx.conn.createChannel();
    const q = await freshQueue(ch, 2);
    const m1 = await ch.get(q);
    expect(m1 && m1.content.toString()).to.equal('0');
    expect(m1 && m1.fields.messageCount).to.equal(1);
    const m2 = await ch.get(q, { noAck: true });
    expect(m2 && m2.content.toString()).to.equal('1');
    expect(await ch.get(q)).to.equal(false);
    ch.ack(m1 as amqp.GetMessage);
    await ch.close();
  });

  it('closes the channel with 406 on an unknown delivery tag', async () => {
    const ch = await ctx.conn.createChannel();
    const close = await expectChannelClose(ch, () => {
      ch.ack({ fields: { deliveryTag: 42 } } as amqp.Message);
    });
    expect(close.code).to.equal(406);
    expect(close.text).to.equal('PRECONDITION_FAILED - unknown delivery tag 42');
  });

  it('closes the channel with 406 on a double ack', async () => {
    const ch = await ctx.conn.createChannel();
    const q = await freshQueue(ch, 1);
    const [m] = await collect(ch, q, 1);
    const close = await expectChannelClose(ch, () => {
      ch.ack(m!);
      ch.ack(m!);
    });
    expect(close.code).to.equal(406);
    expect(close.text).to.equal(`PRECONDITION_FAILED - unknown delivery tag ${m!.fields.deliveryTag}`);
  });

  it('basic.recover requeues everything unacked', async () => {
    const ch = await ctx.conn.createChannel();
    const q = await freshQueue(ch, 2);
    const seen: amqp.ConsumeMessage[] = [];
    let twoSeen!: () => void;
    const two = new Promise<void>((resolve) => { twoSeen = resolve; });
    const four = new Promise<void>((resolve) => {
      void ch.consume(q, (m) => {
        if (!m) return;
        seen.push(m);
        if (seen.length === 2) twoSeen();
        if (seen.length === 4) resolve();
      });
    });
    await two;
    await ch.recover();
    await four;
    expect(seen.map((m) => [m.content.toString(), m.fields.redelivered])).to.deep.equal([['0', false], ['1', false], ['0', true], ['1', true]]);
    await ch.close();
  });

  it('refuses a second consumer on a queue with an exclusive consumer (403)', async () => {
    const ch = await ctx.conn.createChannel();
    const q = await freshQueue(ch, 0);
    await ch.consume(q, () => undefined, { exclusive: true });
    const close = await expectChannelClose(ch, () => ch.consume(q, () => undefined));
    expect(close.code).to.equal(403);
    expect(close.text).to.equal(`ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`);
  });

  it('sends basic.cancel to consumers of a deleted queue', async () => {
    const ch = await ctx.conn.createChannel();
    const { queue } = await ch.assertQueue('cancel-notify-q');
    const cancelled = new Promise<null>((resolve) => {
      void ch.consume(queue, (m) => { if (m === null) resolve(m); });
    });
    const other = await ctx.conn.createChannel();
    await other.deleteQueue(queue);
    expect(await cancelled).to.equal(null);
    await other.close();
    await ch.close();
  });
});
