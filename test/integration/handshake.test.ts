import { expect } from 'chai';
import amqp from 'amqplib';
import { startTestBroker, type TestBroker } from '../support/broker.js';

describe('handshake and channels (amqplib)', () => {
  let broker: TestBroker;
  before(async () => { broker = await startTestBroker(); });
  after(async () => { await broker.close(); });

  it('connects, opens a channel and closes cleanly', async () => {
    const conn = await amqp.connect(broker.url);
    const props = (conn.connection as unknown as { serverProperties: Record<string, unknown> }).serverProperties;
    expect(props.product).to.equal('Warren');
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
