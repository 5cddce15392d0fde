/**
 * What the Node clients' own broker-facing test suites assert, replayed against Warren through each
 * client's public API: amqplib (test/channel_api, callback_api, connect), rabbitmq-client (test/behavior,
 * consumer, rpc) and @cloudamqp/amqp-client (test/test, reconnect, amqp-session). Cases marked
 * "regression" failed against Warren before: connection.update-secret was refused with 540, and an
 * exchange type that is an Erlang atom ('none') was called "unknown" where RabbitMQ 3.10 says "invalid".
 */
import { expect } from 'chai';
import type { EventEmitter } from 'node:events';
import amqp from 'amqplib';
import amqpcb from 'amqplib/callback_api';
import { Connection, ConsumerStatus, type AsyncMessage, type Consumer } from 'rabbitmq-client';
import { AMQPClient, type AMQPChannel, type AMQPMessage } from '@cloudamqp/amqp-client';
import { startTestBroker, parseClose, type TestBroker } from '../support/broker.js';
import { serverConnections } from '../support/warren-internals.js';

/** The next `name` event (node's events.once would reject on an 'error' emitted meanwhile). */
function nextEvent<T = unknown>(emitter: EventEmitter, name: string | symbol): Promise<T> {
  return new Promise((resolve) => emitter.once(name, (value: T) => resolve(value)));
}

/** The rejection of a promise that must fail. */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: unknown; classId?: number; methodId?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: unknown };
  }
  throw new Error('expected a rejection');
}

/** Messages a consumer hands over one by one; each settles with the status its test chooses. */
class Inbox<M> {
  private readonly ready: M[] = [];
  private readonly waiting: Array<(m: M) => void> = [];
  push(m: M): void {
    const w = this.waiting.shift();
    if (w) w(m);
    else this.ready.push(m);
  }
  next(): Promise<M> {
    const m = this.ready.shift();
    return m !== undefined ? Promise.resolve(m) : new Promise((resolve) => this.waiting.push(resolve));
  }
}

interface Job {
  readonly msg: AsyncMessage;
  readonly settle: (status?: ConsumerStatus | Error) => void;
}

/** A rabbitmq-client consumer whose handler hands each message to the test and waits for its verdict. */
function jobConsumer(rabbit: Connection, props: Parameters<Connection['createConsumer']>[0]): { consumer: Consumer; jobs: Inbox<Job> } {
  const jobs = new Inbox<Job>();
  const consumer = rabbit.createConsumer(props, (msg) => new Promise<ConsumerStatus | undefined>((resolve, reject) => {
    jobs.push({ msg, settle: (s) => (s instanceof Error ? reject(s) : resolve(s)) });
  }));
  return { consumer, jobs };
}

describe('Node client suites against Warren', () => {
  let broker: TestBroker;

  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  describe('amqplib', () => {
    it('connection.updateSecret resolves, promise and callback API (regression)', async () => {
      const c = await amqp.connect(broker.url);
      await c.updateSecret(Buffer.from('new secret'), 'no reason');
      // The connection is still usable afterwards.
      const ch = await c.createChannel();
      await ch.checkExchange('amq.direct');
      await c.close();

      await new Promise<void>((resolve, reject) => {
        amqpcb.connect(broker.url, (err: Error | null, cb) => {
          if (err) return reject(err);
          cb.updateSecret(Buffer.from('new secret'), 'no reason', (e: Error | null | undefined) => {
            cb.close(() => (e ? reject(e) : resolve()));
          });
        });
      });
    });

    it("exchange type 'none' is invalid, a made-up type unknown: 503 on the connection (regression)", async () => {
      for (const [type, word] of [['none', 'invalid'], ['x-zzq-random', 'unknown']] as const) {
        const c = await amqp.connect(broker.url);
        const closed = nextEvent<Error & { code?: number }>(c, 'error');
        const ch = await c.createChannel();
        ch.on('error', () => {});
        await rejection(ch.assertExchange('cs-bad-type', type));
        const info = parseClose(await closed);
        expect(info).to.deep.equal({ code: 503, text: `COMMAND_INVALID - ${word} exchange type '${type}'` });
      }
    });

    it("get('') with no queue declared on the channel: 404 naming basic.get (60, 70)", async () => {
      const c = await amqp.connect(broker.url);
      const ch = await c.createChannel();
      ch.on('error', () => {});
      const err = await rejection(ch.get('', {}));
      expect(err.message).to.match(/404 \(NOT-FOUND\) with message "NOT_FOUND - no previously declared queue"/);
      expect([err.code, err.classId, err.methodId]).to.deep.equal([404, 60, 70]);
      await c.close();
    });

    it('reasserting a queue with another auto-delete: 406 naming queue.declare (50, 10)', async () => {
      const c = await amqp.connect(broker.url);
      const ch = await c.createChannel();
      ch.on('error', () => {});
      await ch.assertQueue('cs-reassert', { durable: false, autoDelete: true });
      const err = await rejection(ch.assertQueue('cs-reassert', { durable: false, autoDelete: false }));
      expect(err.message).to.contain("PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue 'cs-reassert' in vhost '/': received 'false' but current is 'true'");
      expect([err.code, err.classId, err.methodId]).to.deep.equal([406, 50, 10]);
      await c.close();
    });

    it('a burst of confirmed publishes is acknowledged with multiple=true', async () => {
      const c = await amqp.connect(broker.url);
      const ch = await c.createConfirmChannel();
      await ch.assertQueue('cs-multi-confirm', { durable: false });
      let multiple = false;
      ch.on('ack', (a: { multiple: boolean }) => {
        if (a.multiple) multiple = true;
      });
      const confirms: Array<Promise<void>> = [];
      for (let i = 0; i < 100; i++) {
        confirms.push(new Promise((resolve, reject) => ch.sendToQueue('cs-multi-confirm', Buffer.from('bleep'), {}, (e) => (e ? reject(e) : resolve()))));
      }
      await Promise.all(confirms);
      expect(multiple).to.equal(true);
      await ch.deleteQueue('cs-multi-confirm');
      await c.close();
    });

    it('deleting a consumed queue cancels the consumer (amqplib hands it null)', async () => {
      const c = await amqp.connect(broker.url);
      const ch = await c.createChannel();
      await ch.assertQueue('cs-cancelled');
      const cancelled = new Promise<unknown>((resolve) => {
        void ch.consume('cs-cancelled', (m) => resolve(m)).then(() => ch.deleteQueue('cs-cancelled'));
      });
      expect(await cancelled).to.equal(null);
      await c.close();
    });

    it('a wrong password ends the handshake with 403 ACCESS_REFUSED', async () => {
      const url = new URL(broker.url);
      url.password = 'wrong';
      const err = await rejection(amqp.connect(url.toString()));
      expect(err.message).to.equal('Handshake terminated by server: 403 (ACCESS-REFUSED) with message '
        + '"ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."');
    });
  });

  describe('rabbitmq-client', () => {
    const connections: Connection[] = [];
    function rabbit(options: { retryLow?: number; retryHigh?: number } = {}): Connection {
      const r = new Connection({ url: broker.url, ...options });
      connections.push(r);
      return r;
    }
    afterEach(async () => {
      for (const r of connections.splice(0)) await r.close();
    });

    it('acquire(): basicGet on an empty queue, then JSON and text bodies with their content types', async () => {
      const ch = await rabbit().acquire();
      const { queue, messageCount } = await ch.queueDeclare({ exclusive: true });
      expect(messageCount).to.equal(0);
      expect(await ch.basicGet({ queue })).to.equal(undefined);
      await ch.basicPublish({ routingKey: queue, headers: { 'x-test-arr': ['red', 'blue'] } }, { color: 'green' });
      const m1 = await ch.basicGet({ queue });
      expect([m1?.contentType, m1?.body, m1?.headers?.['x-test-arr']]).to.deep.equal(['application/json', { color: 'green' }, ['red', 'blue']]);
      ch.basicAck(m1!);
      await ch.basicPublish({ routingKey: queue }, 'my data');
      const m2 = await ch.basicGet({ queue });
      expect([m2?.contentType, m2?.body]).to.deep.equal(['text/plain', 'my data']);
      ch.basicAck(m2!);
      await ch.close();
    });

    it('a channel error fails the confirmed publish that caused it and CH_CLOSEs the ones behind it', async () => {
      const ch = await rabbit().acquire();
      await ch.confirmSelect();
      const results = await Promise.allSettled([
        ch.basicPublish({ routingKey: 'cs-nowhere' }, ''),
        ch.basicPublish({ routingKey: 'cs-nowhere', exchange: 'cs-no-such-exchange' }, ''),
        ch.basicPublish({ routingKey: 'cs-nowhere' }, ''),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code))).to.deep.equal(['ok', 'NOT_FOUND', 'CH_CLOSE']);
      expect(ch.active).to.equal(false);
    });

    it('basicAck of an unknown delivery tag closes the channel with PRECONDITION_FAILED', async () => {
      const r = rabbit();
      const ch = await r.acquire();
      const failed = nextEvent<{ code: string; message: string }>(r, 'error');
      ch.basicAck({ deliveryTag: 1 });
      const err = await failed;
      expect([err.code, err.message]).to.deep.equal(['PRECONDITION_FAILED', 'BasicAck: PRECONDITION_FAILED - unknown delivery tag 1']);
    });

    it('createPublisher with confirms: basic.return, a channel error, then a fresh channel', async () => {
      const r = rabbit();
      const queue = 'cs-pub-q';
      const pub = r.createPublisher({ confirm: true, queues: [{ queue, exclusive: true }] });
      const returned = nextEvent<{ body: unknown; replyText: string }>(pub, 'basic.return');
      await pub.send({ routingKey: 'cs-unroutable', mandatory: true }, 'returned');
      expect(await returned).to.include({ body: 'returned', replyText: 'NO_ROUTE' });
      await pub.send(queue, 'good');
      const err = await rejection(pub.send({ exchange: 'cs-no-such-exchange' }, ''));
      expect(err.code).to.equal('NOT_FOUND');
      await pub.send(queue, 'after the error');
      const ch = await r.acquire();
      expect((await ch.basicGet({ queue, noAck: true }))?.body).to.equal('good');
      expect((await ch.basicGet({ queue, noAck: true }))?.body).to.equal('after the error');
      await ch.close();
      await pub.close();
    });

    it('createConsumer with requeue, topic exchange and binding: nack redelivers, queue.delete cancels (CANCEL_FORCED)', async () => {
      const r = rabbit({ retryLow: 25 });
      const queue = 'cs-consumer-q';
      const exchange = 'cs-consumer-x';
      const { consumer, jobs } = jobConsumer(r, {
        requeue: true, queue, queueOptions: { exclusive: true },
        exchanges: [{ autoDelete: true, exchange, type: 'topic' }],
        queueBindings: [{ queue, exchange, routingKey: 'audit.*' }],
      });
      await nextEvent(consumer, 'ready');
      const ch = await r.acquire();
      await ch.basicPublish({ exchange, routingKey: 'audit.test' }, 'red fish');
      const first = await jobs.next();
      expect([first.msg.body, first.msg.redelivered]).to.deep.equal(['red fish', false]);
      const handlerError = nextEvent<Error>(consumer, 'error');
      first.settle(new Error('forced basic.nack'));
      expect((await handlerError).message).to.equal('forced basic.nack');
      const again = await jobs.next();
      expect([again.msg.body, again.msg.redelivered]).to.deep.equal(['red fish', true]);
      again.settle();

      const cancelled = nextEvent<{ code: string }>(consumer, 'error');
      const readyAgain = nextEvent(consumer, 'ready');
      expect((await ch.queueDelete({ queue })).messageCount).to.equal(0);
      expect((await cancelled).code).to.equal('CANCEL_FORCED');
      await readyAgain;
      await ch.close();
      await consumer.close();
    });

    it('requeue=false dead-letters through x-dead-letter-exchange; REQUEUE redelivers, DROP dead-letters', async () => {
      const r = rabbit();
      const exchange = 'cs-dlx';
      const sub = jobConsumer(r, { queue: 'cs-dl-src', requeue: false, queueOptions: { exclusive: true, arguments: { 'x-dead-letter-exchange': exchange } } });
      const dead = jobConsumer(r, {
        queue: 'cs-dl-dst', queueOptions: { exclusive: true },
        exchanges: [{ exchange, type: 'fanout', autoDelete: true }], queueBindings: [{ exchange, routingKey: 'cs-dl-src' }],
      });
      await Promise.all([nextEvent(sub.consumer, 'ready'), nextEvent(dead.consumer, 'ready')]);
      const ch = await r.acquire();
      await ch.basicPublish('cs-dl-src', 'red');
      (await sub.jobs.next()).settle(new Error('expected'));
      const d1 = await dead.jobs.next();
      expect(d1.msg.body).to.equal('red');
      d1.settle();
      await ch.basicPublish('cs-dl-src', 'blue');
      const m3 = await sub.jobs.next();
      m3.settle(ConsumerStatus.REQUEUE);
      const m4 = await sub.jobs.next();
      expect([m4.msg.body, m4.msg.redelivered]).to.deep.equal(['blue', true]);
      m4.settle(ConsumerStatus.DROP);
      const d2 = await dead.jobs.next();
      expect(d2.msg.body).to.equal('blue');
      d2.settle();
      await ch.close();
      await sub.consumer.close();
      await dead.consumer.close();
    });

    it('RPCClient replies through direct reply-to (amq.rabbitmq.reply-to)', async () => {
      const r = rabbit();
      const server = r.createConsumer({ queue: 'cs-rpc', queueOptions: { exclusive: true } }, async (msg, reply) => {
        await reply(`PONG ${String(msg.body)}`);
      });
      await nextEvent(server, 'ready');
      const client = r.createRPCClient({ confirm: true });
      const res = await client.send('cs-rpc', 'PING');
      expect([res.body, res.correlationId]).to.deep.equal(['PONG PING', '1']);
      await client.close();
      await server.close();
    });

    it('reconnects after 320 CONNECTION_FORCED: the consumer re-runs its setup and the publisher sends again', async () => {
      const r = rabbit({ retryLow: 25 });
      const { consumer, jobs } = jobConsumer(r, { queue: 'cs-reconnect', queueOptions: { exclusive: true } });
      await nextEvent(consumer, 'ready');
      const pub = r.createPublisher({ confirm: true });
      await pub.send('cs-reconnect', 'before');
      (await jobs.next()).settle();

      const forced = nextEvent<{ code: string; message: string }>(r, 'error');
      const reconnected = nextEvent(r, 'connection');
      const readyAgain = nextEvent(consumer, 'ready');
      const conns = serverConnections(broker.warren);
      expect(conns).to.have.length(1);
      conns[0]!.forceClose('test');
      const err = await forced;
      expect(err.code).to.equal('CONNECTION_FORCED');
      await reconnected;
      await readyAgain;
      await pub.send('cs-reconnect', 'after');
      const after = await jobs.next();
      expect(after.msg.body).to.equal('after');
      after.settle();
      await pub.close();
      await consumer.close();
    });
  });

  describe('@cloudamqp/amqp-client', () => {
    const clients: AMQPClient[] = [];
    async function channel(params: Record<string, number> = {}): Promise<AMQPChannel> {
      const url = new URL(broker.url);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
      const client = new AMQPClient(url.toString());
      clients.push(client);
      const conn = await client.connect();
      return conn.channel();
    }
    afterEach(async () => {
      for (const c of clients.splice(0)) if (!c.closed) await c.close();
    });

    it('connect, channel, queue publish/subscribe/ack and get, close', async () => {
      const ch = await channel();
      expect(ch.connection.channels.length).to.equal(2);
      const { name } = await ch.queueDeclare('');
      await ch.basicPublish('', name, 'hello world');
      const got = new Promise<AMQPMessage>((resolve) => {
        void ch.basicConsume(name, { noAck: false }, async (msg) => {
          await msg.ack();
          resolve(msg);
        });
      });
      expect((await got).bodyString()).to.equal('hello world');
      const { name: q2 } = await ch.queueDeclare('');
      expect(await ch.basicGet(q2)).to.equal(null);
      await ch.basicPublish('', q2, 'message');
      expect((await ch.basicGet(q2, { noAck: true }))?.bodyString()).to.equal('message');
      await ch.close();
      await rejection(ch.close()).then((e) => expect(e.message).to.match(/Channel is closed/));
    });

    it('confirmSelect: publishes return delivery tags 1, 2, 3, 4; a reject-publish queue nacks', async () => {
      const ch = await channel();
      expect(await ch.basicPublish('amq.fanout', 'rk', 'body')).to.equal(0);
      await ch.confirmSelect();
      expect(await ch.basicPublish('amq.fanout', 'rk', 'body')).to.equal(1);
      expect(await ch.basicPublish('amq.fanout', 'rk', 'body')).to.equal(2);
      expect(await Promise.all([ch.basicPublish('amq.fanout', 'rk', 'body'), ch.basicPublish('amq.fanout', 'rk', 'body')])).to.deep.equal([3, 4]);
      const { name } = await ch.queueDeclare('', {}, { 'x-overflow': 'reject-publish', 'x-max-length': 0 });
      expect((await rejection(ch.basicPublish('', name, 'body'))).message).to.match(/Message rejected/);
    });

    it('updateSecret resolves (regression)', async () => {
      const ch = await channel();
      expect(await ch.connection.updateSecret('foobar', 'no reason')).to.equal(undefined);
      await ch.prefetch(1);
    });

    it("exchangeDeclare of type 'none' rejects with 'invalid exchange type' (regression)", async () => {
      const ch = await channel();
      let reason = '';
      ch.onerror = (r: string) => { reason = r; };
      const err = await rejection(ch.exchangeDeclare('none', 'none' as 'direct'));
      expect(err.message).to.equal("connection closed: COMMAND_INVALID - invalid exchange type 'none' (503)");
      expect(reason).to.match(/invalid exchange type/);
    });

    it('deleting the queue cancels its consumer: wait() rejects with "Consumer cancelled by the server"', async () => {
      const ch = await channel();
      const { name } = await ch.queueDeclare('');
      const consumer = await ch.basicConsume(name, {}, () => {});
      await ch.queueDelete(name);
      expect((await rejection(consumer.wait())).message).to.match(/Consumer cancelled by the server/);
    });

    it('every property type round-trips through the broker', async () => {
      const ch = await channel();
      const { name } = await ch.queueDeclare('');
      const headers = { a: 2, b: true, c: 'c', d: 1.5, e: null, f: new Date(1000), g: { a: 1 }, i: 2 ** 32 + 1, j: 2.5 ** 33 };
      const properties = {
        contentType: 'application/json', contentEncoding: 'gzip', headers, deliveryMode: 2, priority: 1,
        correlationId: 'corr', replyTo: 'me', expiration: '10000', messageId: 'msgid', appId: 'appid',
        userId: 'guest', type: 'type', timestamp: new Date(Math.round(Date.now() / 1000) * 1000),
      };
      await ch.basicPublish('', name, '', properties);
      const msg = await ch.basicGet(name);
      expect(msg?.properties).to.deep.equal(properties);
    });

    it('bodies are split at frame-max 8192 and reassembled, sizes around the frame boundary', async () => {
      const ch = await channel({ frameMax: 8192 });
      await ch.confirmSelect();
      const { name } = await ch.queueDeclare('');
      for (const n of [4096, 8183, 8184, 8185, 20000]) {
        await ch.basicPublish('', name, new Uint8Array(n));
        expect((await ch.basicGet(name, { noAck: true }))?.bodySize).to.equal(n);
      }
      const { name: big } = await ch.queueDeclare('');
      await ch.basicPublish('', big, '', { headers: { a: 'a'.repeat(7000) } });
      expect(((await ch.basicGet(big, { noAck: true }))?.properties.headers?.['a'] as string).length).to.equal(7000);
    });

    it('transactions: nothing is visible before commit, a rollback discards', async () => {
      const ch = await channel();
      const { name } = await ch.queueDeclare('');
      await ch.txSelect();
      await ch.basicPublish('', name, 'foobar');
      expect(await ch.basicGet(name)).to.equal(null);
      await ch.txCommit();
      expect((await ch.basicGet(name, { noAck: true }))?.bodyString()).to.equal('foobar');
      await ch.basicPublish('', name, 'foobar');
      await ch.txRollback();
      expect(await ch.basicGet(name)).to.equal(null);
    });
  });
});
