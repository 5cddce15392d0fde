/**
 * amqp-connection-manager against Warren: a ChannelWrapper whose setup declares, binds and consumes;
 * the broker closes the connection with 320 CONNECTION_FORCED (one connection, then a whole restart on
 * the same port) and the manager must reconnect, re-run its setup and deliver what was published while
 * it was disconnected (ChannelWrapper buffers those).
 */
import { once } from 'node:events';
import { expect } from 'chai';
import type { ConsumeMessage } from 'amqplib';
import amqpcm, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import { startTestBroker, type TestBroker } from '../support/broker.js';
import { serverConnections } from '../support/warren-internals.js';

/** Collects message bodies and resolves waiters once a body has arrived (no polling, no sleeps). */
class Inbox {
  readonly bodies: string[] = [];
  private readonly waiters: Array<{ body: string; resolve: () => void }> = [];

  push(body: string): void {
    this.bodies.push(body);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.body === body) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  waitFor(body: string): Promise<void> {
    if (this.bodies.includes(body)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ body, resolve }));
  }
}

interface DisconnectInfo {
  err: Error & { code?: number };
}

describe('amqp-connection-manager: reconnect, setup re-run, buffered publishes', () => {
  const managers: AmqpConnectionManager[] = [];
  const brokers: TestBroker[] = [];

  async function broker(port = 0): Promise<TestBroker> {
    const b = await startTestBroker({ port });
    brokers.push(b);
    return b;
  }

  function manager(url: string): AmqpConnectionManager {
    // Heartbeats off (nothing to detect here) and a short retry interval: the restart test waits for
    // the manager's next attempt after the new broker is listening.
    const m = amqpcm.connect([url], { heartbeatIntervalInSeconds: 0, reconnectTimeInSeconds: 0.05 });
    managers.push(m);
    return m;
  }

  /** A wrapper whose setup declares x → q and consumes q into `inbox`; counts setup runs. */
  function wrapper(m: AmqpConnectionManager, names: { x: string; q: string }, inbox: Inbox, runs: { n: number }): ChannelWrapper {
    return m.createChannel({
      name: names.q,
      setup: async (ch: import('amqplib').ConfirmChannel) => {
        runs.n++;
        await ch.assertExchange(names.x, 'direct', { durable: false });
        await ch.assertQueue(names.q, { durable: false });
        await ch.bindQueue(names.q, names.x, 'k');
        await ch.consume(names.q, (msg: ConsumeMessage | null) => {
          if (msg === null) return;
          inbox.push(msg.content.toString());
          ch.ack(msg);
        });
      },
    });
  }

  /**
   * checkQueue on the wrapper's own channel: frames on a channel are handled in order, so once this
   * answers, the acks the consumer sent before it are settled (a forced close would otherwise requeue
   * deliveries whose acks were still in flight: at-least-once, as in RabbitMQ).
   */
  async function settled(w: ChannelWrapper, queue: string): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    let result: { queue: string; messageCount: number; consumerCount: number } | undefined;
    const probe = async (ch: import('amqplib').ConfirmChannel): Promise<void> => { result = await ch.checkQueue(queue); };
    await w.addSetup(probe);
    await w.removeSetup(probe);
    return result!;
  }

  afterEach(async () => {
    for (const m of managers.splice(0)) await m.close();
    for (const b of brokers.splice(0)) await b.close();
  });

  it('publishes and receives through a ChannelWrapper', async () => {
    const b = await broker();
    const m = manager(b.url);
    const inbox = new Inbox();
    const runs = { n: 0 };
    const w = wrapper(m, { x: 'cm-x1', q: 'cm-q1' }, inbox, runs);
    await w.waitForConnect();
    expect(runs.n).to.equal(1);
    // A confirm channel (the wrapper's default): publish resolves on the broker's basic.ack.
    await w.publish('cm-x1', 'k', Buffer.from('hello'));
    await w.sendToQueue('cm-q1', Buffer.from('direct'));
    await inbox.waitFor('hello');
    await inbox.waitFor('direct');
    expect(inbox.bodies).to.deep.equal(['hello', 'direct']);
    await w.close();
  });

  it('reconnects after the broker force-closes the connection (320) and re-runs setup', async () => {
    const b = await broker();
    const m = manager(b.url);
    const inbox = new Inbox();
    const runs = { n: 0 };
    const w = wrapper(m, { x: 'cm-x2', q: 'cm-q2' }, inbox, runs);
    await w.waitForConnect();
    await w.publish('cm-x2', 'k', Buffer.from('before'));
    await inbox.waitFor('before');
    expect(await settled(w, 'cm-q2')).to.deep.equal({ queue: 'cm-q2', messageCount: 0, consumerCount: 1 });

    const disconnected = once(m, 'disconnect') as Promise<[DisconnectInfo]>;
    const reconnected = once(w, 'connect');
    const conns = serverConnections(b.warren);
    expect(conns).to.have.length(1);
    conns[0]!.forceClose('test');
    const [{ err }] = await disconnected;
    expect(err.code).to.equal(320);
    expect(err.message).to.contain("CONNECTION_FORCED - broker forced connection closure with reason 'test'");

    // Published while there is no connection: held by the wrapper, sent after setup.
    expect(m.isConnected()).to.equal(false);
    const during = w.publish('cm-x2', 'k', Buffer.from('while-down'));
    expect(w.queueLength()).to.equal(1);

    await reconnected;
    await during;
    await inbox.waitFor('while-down');
    expect(runs.n).to.equal(2);
    // The queue survived (same broker), and the re-run setup's consumer is the only one on it.
    await w.publish('cm-x2', 'k', Buffer.from('after'));
    await inbox.waitFor('after');
    expect(inbox.bodies).to.deep.equal(['before', 'while-down', 'after']);
    expect(await settled(w, 'cm-q2')).to.deep.equal({ queue: 'cm-q2', messageCount: 0, consumerCount: 1 });
    await w.close();
  });

  it('survives a broker restart on the same port: publishes made while it was down arrive afterwards', async () => {
    const first = await broker();
    const port = first.warren.port;
    const m = manager(first.url);
    const inbox = new Inbox();
    const runs = { n: 0 };
    const w = wrapper(m, { x: 'cm-x3', q: 'cm-q3' }, inbox, runs);
    await w.waitForConnect();
    await w.publish('cm-x3', 'k', Buffer.from('first-life'));
    await inbox.waitFor('first-life');
    expect(await settled(w, 'cm-q3')).to.include({ messageCount: 0 });

    const disconnected = once(m, 'disconnect') as Promise<[DisconnectInfo]>;
    // Warren.close() closes every client with 320, then stops listening.
    await first.close();
    brokers.splice(brokers.indexOf(first), 1);
    const [{ err }] = await disconnected;
    expect(err.code).to.equal(320);

    // While nothing listens, the manager's attempts fail; publishes pile up in the wrapper.
    await once(m, 'connectFailed');
    expect(m.isConnected()).to.equal(false);
    const pending = [w.publish('cm-x3', 'k', Buffer.from('down-1')), w.publish('cm-x3', 'k', Buffer.from('down-2'))];
    expect(w.queueLength()).to.equal(2);

    const reconnected = once(w, 'connect');
    const second = await broker(port);
    expect(second.warren.port).to.equal(port);
    await reconnected;
    await Promise.all(pending);
    // In-memory store: the new broker started empty, so the re-run setup declared everything again.
    expect(runs.n).to.equal(2);
    await inbox.waitFor('down-1');
    await inbox.waitFor('down-2');
    await w.publish('cm-x3', 'k', Buffer.from('second-life'));
    await inbox.waitFor('second-life');
    expect(inbox.bodies).to.deep.equal(['first-life', 'down-1', 'down-2', 'second-life']);
    await w.close();
  });

  it('rejects a publish the broker nacks through the confirm channel', async () => {
    const b = await broker();
    const m = manager(b.url);
    const w = m.createChannel({
      setup: async (ch: import('amqplib').ConfirmChannel) => {
        await ch.assertQueue('cm-full', { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
      },
    });
    await w.waitForConnect();
    await w.sendToQueue('cm-full', Buffer.from('fits'));
    let rejected: unknown = null;
    await w.sendToQueue('cm-full', Buffer.from('overflows')).catch((err: unknown) => { rejected = err; });
    expect(rejected).to.be.instanceOf(Error);
    expect((rejected as Error).message).to.match(/nack/i);
    await w.close();
  });

  it('delivers a batch of confirmed publishes in order across a forced close', async () => {
    const b = await broker();
    const m = manager(b.url);
    const inbox = new Inbox();
    const runs = { n: 0 };
    const w = wrapper(m, { x: 'cm-x5', q: 'cm-q5' }, inbox, runs);
    await w.waitForConnect();
    const first = Array.from({ length: 200 }, (_, i) => w.publish('cm-x5', 'k', Buffer.from(`a${i}`)));
    await Promise.all(first);
    await inbox.waitFor('a199');
    expect(await settled(w, 'cm-q5')).to.include({ messageCount: 0 });
    const disconnected = once(m, 'disconnect');
    serverConnections(b.warren)[0]!.forceClose('batch');
    await disconnected;
    const second = Array.from({ length: 200 }, (_, i) => w.publish('cm-x5', 'k', Buffer.from(`b${i}`)));
    await Promise.all(second);
    await inbox.waitFor('b199');
    const expected = [...Array.from({ length: 200 }, (_, i) => `a${i}`), ...Array.from({ length: 200 }, (_, i) => `b${i}`)];
    expect(inbox.bodies).to.deep.equal(expected);
    expect(runs.n).to.equal(2);
    await w.close();
  });
});
