/**
 * The embedding API (`startBroker` from 'warren-mq'): lifecycle, handles and heap over many brokers,
 * several at once, options, CommonJS consumers, inspection, reset() and waitFor.
 */
import async_hooks from 'node:async_hooks';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import amqp from 'amqplib';
import { expect } from 'chai';
import { startBroker, WaitTimeoutError, type WarrenBroker } from '../../src/index.js';
import { parseClose } from '../support/broker.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every test connects with Nagle off: amqplib's default adds ~40 ms per handshake on loopback. */
function connect(url: string): Promise<amqp.ChannelModel> {
  return amqp.connect(url, { noDelay: true });
}

/** Resolve with the close error (or null) once the client connection is closed. */
function closedEvent(conn: amqp.ChannelModel): Promise<(Error & { code?: number }) | null> {
  conn.on('error', () => undefined); // the 'close' event carries the same error
  return new Promise((resolve) => conn.once('close', (err?: Error & { code?: number }) => resolve(err ?? null)));
}

/** global.gc without --expose-gc: flip the flag at run time and fetch gc from a fresh context. */
function gcFunction(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc as () => void;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function countBy(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}

describe('embedding API: startBroker()', () => {
  describe('lifecycle', () => {
    it('resolves once it accepts connections, on 127.0.0.1 and a free port, with an amqp:// URL', async () => {
      const broker = await startBroker();
      try {
        expect(broker.port).to.be.greaterThan(0);
        expect(broker.host).to.equal('127.0.0.1');
        expect(broker.url).to.equal(`amqp://guest:guest@127.0.0.1:${broker.port}`);
        expect(broker.config).to.include({ host: '127.0.0.1', store: 'memory', logLevel: 'error' });
        const conn = await connect(broker.url);
        expect(broker.connectionCount).to.equal(1);
        const ch = await conn.createChannel();
        const ok = await ch.assertQueue('life-q');
        expect(ok.queue).to.equal('life-q');
        await conn.close();
      } finally {
        await broker.close();
      }
    });

    it('close() sends 320 CONNECTION_FORCED to clients, releases the port and is idempotent', async () => {
      const broker = await startBroker();
      const conn = await connect(broker.url);
      const closed = closedEvent(conn);
      const first = broker.close();
      expect(broker.close()).to.equal(first);
      await first;
      const err = await closed;
      expect(err).to.not.equal(null);
      expect(parseClose(err!)).to.deep.equal({
        code: 320, text: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
      });
      expect(broker.closed).to.equal(true);
      // The port is free again: something else can listen on it.
      const probe = net.createServer();
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.listen(broker.port, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      await expectRejection(broker.reset(), /closed/);
    });

    it('starts and closes 50 brokers in a row with handles and heap back at baseline', async function () {
      this.timeout(60000);
      const gc = gcFunction();
      const settle = async (): Promise<void> => {
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setImmediate(r));
          gc();
        }
      };
      // One full cycle exercises everything that leaves state behind: a client, a consumer holding an
      // unacked message, a queue with TTL and x-expires timers.
      const cycle = async (refs?: Array<WeakRef<WarrenBroker>>): Promise<void> => {
        const broker = await startBroker();
        refs?.push(new WeakRef(broker));
        const conn = await connect(broker.url);
        const closed = closedEvent(conn);
        const ch = await conn.createChannel();
        await ch.assertQueue('cycle-q', { arguments: { 'x-message-ttl': 600000, 'x-expires': 600000 } });
        ch.sendToQueue('cycle-q', Buffer.alloc(1024));
        await ch.consume('cycle-q', () => undefined);
        await broker.waitFor.unacked('cycle-q', 1);
        await broker.close();
        await closed;
      };
      // Warm-up: module loading, JIT code and inline caches are not leaks.
      for (let i = 0; i < 10; i++) await cycle();
      await settle();
      const handlesBefore = countBy(process.getActiveResourcesInfo());
      const heapBefore = process.memoryUsage().heapUsed;
      const refs: Array<WeakRef<WarrenBroker>> = [];
      for (let i = 0; i < 50; i++) await cycle(refs);
      await settle();
      // No kind of handle or timer grew (a leftover of an earlier test file may still close meanwhile).
      const handlesAfter = countBy(process.getActiveResourcesInfo());
      const grewBy = Object.fromEntries(Object.entries(handlesAfter)
        .filter(([type, n]) => n > (handlesBefore[type] ?? 0)).map(([type, n]) => [type, n - (handlesBefore[type] ?? 0)]));
      expect(grewBy).to.deep.equal({});
      // Exact: no broker is reachable any more.
      expect(refs.filter((r) => r.deref() !== undefined).length).to.equal(0);
      // With a tolerance: V8 keeps growing code space and feedback for a while (measured: ~1.2 MB over
      // these 50 cycles, flat in heap snapshots apart from code); a leaked broker per cycle would be more.
      const grown = process.memoryUsage().heapUsed - heapBefore;
      expect(grown, `heap grew by ${grown} bytes`).to.be.lessThan(3 * 1024 * 1024);
    });

    it('runs two brokers at once, isolated from each other', async () => {
      const [a, b] = await Promise.all([startBroker(), startBroker()]);
      try {
        expect(a.port).to.not.equal(b.port);
        const [ca, cb] = await Promise.all([connect(a.url), connect(b.url)]);
        const [cha, chb] = await Promise.all([ca.createChannel(), cb.createChannel()]);
        await cha.assertQueue('only-on-a');
        await chb.assertQueue('only-on-b');
        cha.sendToQueue('only-on-a', Buffer.from('a'));
        await a.waitFor.messages('only-on-a', 1);
        expect(a.queues().map((q) => q.name)).to.deep.equal(['only-on-a']);
        expect(b.queues().map((q) => q.name)).to.deep.equal(['only-on-b']);
        const closedA = closedEvent(ca);
        await a.close();
        await closedA;
        // b is unaffected by a's close.
        chb.sendToQueue('only-on-b', Buffer.from('b'));
        expect((await b.waitFor.messages('only-on-b', 1)).messageCount).to.equal(1);
        await cb.close();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  describe('options', () => {
    it('takes the CLI options: user, password and vhost appear URL-encoded in broker.url', async () => {
      const broker = await startBroker({ defaultUser: 'app', defaultPass: 'p@ss w/rd', defaultVhost: 'tests/1', heartbeat: 0, frameMax: 8192 });
      try {
        expect(broker.url).to.equal(`amqp://app:p%40ss%20w%2Frd@127.0.0.1:${broker.port}/tests%2F1`);
        expect(broker.vhosts()).to.deep.equal(['tests/1']);
        const conn = await connect(broker.url);
        const ch = await conn.createChannel();
        await ch.assertQueue('in-vhost');
        expect(broker.queue('in-vhost')?.vhost).to.equal('tests/1');
        await conn.close();
      } finally {
        await broker.close();
      }
    });

    it('refuses an unknown store or log level instead of guessing', async () => {
      await expectRejection(startBroker({ store: 'memroy' as 'memory' }), /store must be 'memory' or 'level'/);
      await expectRejection(startBroker({ logLevel: 'verbose' as 'info' }), /unknown logLevel 'verbose'/);
    });

    it("store: 'level' keeps durable state across brokers on the same dataDir", async () => {
      const dataDir = tempDir('warren-embed-level-');
      try {
        const first = await startBroker({ store: 'level', dataDir });
        const conn = await connect(first.url);
        const ch = await conn.createConfirmChannel();
        await ch.assertQueue('kept', { durable: true });
        await new Promise<void>((resolve, reject) => {
          ch.sendToQueue('kept', Buffer.from('persisted'), { persistent: true }, (err) => (err ? reject(err) : resolve()));
        });
        const closed = closedEvent(conn);
        await first.close();
        await closed;
        const second = await startBroker({ store: 'level', dataDir });
        try {
          expect(second.queue('kept')).to.include({ durable: true, messageCount: 1 });
        } finally {
          await second.close();
        }
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('serves CommonJS consumers: require("warren-mq") from a .cjs file', async function () {
      this.timeout(20000);
      const dir = tempDir('warren-embed-cjs-');
      try {
        fs.mkdirSync(path.join(dir, 'node_modules'));
        fs.symlinkSync(PROJECT_ROOT, path.join(dir, 'node_modules', 'warren-mq'), 'dir');
        fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules', 'amqplib'), path.join(dir, 'node_modules', 'amqplib'), 'dir');
        fs.writeFileSync(path.join(dir, 'consumer.cjs'), [
          "const { startBroker } = require('warren-mq');",
          "const amqp = require('amqplib');",
          '(async () => {',
          '  const broker = await startBroker();',
          '  const conn = await amqp.connect(broker.url, { noDelay: true });',
          '  conn.on("error", () => {});',
          '  const ch = await conn.createChannel();',
          "  await ch.assertQueue('from-cjs');",
          "  ch.sendToQueue('from-cjs', Buffer.from('x'));",
          "  const q = await broker.waitFor.messages('from-cjs', 1);",
          '  await broker.close();',
          '  process.stdout.write(JSON.stringify({ messageCount: q.messageCount, url: broker.url }));',
          '})();',
        ].join('\n'));
        // No --exit anywhere: the child must end by itself once the broker is closed.
        const { stdout } = await run(process.execPath, [path.join(dir, 'consumer.cjs')], dir, 15000);
        const result = JSON.parse(stdout) as { messageCount: number; url: string };
        expect(result.messageCount).to.equal(1);
        expect(result.url).to.match(/^amqp:\/\/guest:guest@127\.0\.0\.1:\d+$/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('inspection', () => {
    let broker: WarrenBroker;
    let conn: amqp.ChannelModel;
    let ch: amqp.Channel;

    before(async () => {
      broker = await startBroker();
      conn = await connect(broker.url);
      ch = await conn.createChannel();
    });
    after(async () => {
      await conn.close();
      await broker.close();
    });
    afterEach(() => broker.reset());

    it('queue(name) reports ready, unacked and consumer counts and plain arguments', async () => {
      await ch.assertQueue('inspect-q', { durable: false, arguments: { 'x-max-length': 10, 'x-queue-mode': 'lazy' } });
      for (let i = 0; i < 3; i++) ch.sendToQueue('inspect-q', Buffer.from(`m${i}`));
      await broker.waitFor.messages('inspect-q', 3);
      await ch.prefetch(1);
      await ch.consume('inspect-q', () => undefined);
      const q = await broker.waitFor.unacked('inspect-q', 1);
      expect(q).to.deep.equal({
        vhost: '/', name: 'inspect-q', durable: false, exclusive: false, autoDelete: false,
        arguments: { 'x-max-length': 10, 'x-queue-mode': 'lazy' },
        messageCount: 2, unackedCount: 1, consumerCount: 1,
      });
      expect(Object.isFrozen(q)).to.equal(true);
      expect(broker.queue('missing')).to.equal(undefined);
      expect(broker.queues().map((x) => x.name)).to.deep.equal(['inspect-q']);
    });

    it('exchanges() lists the built-in ones flagged, and user exchanges with their properties', async () => {
      await ch.assertExchange('inspect-x', 'topic', { durable: true, autoDelete: false, arguments: { 'alternate-exchange': 'amq.fanout' } });
      const builtin = broker.exchanges().filter((x) => x.builtin).map((x) => x.name);
      expect(builtin).to.deep.equal(['', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match', 'amq.rabbitmq.trace']);
      expect(broker.exchanges().filter((x) => !x.builtin)).to.deep.equal([{
        vhost: '/', name: 'inspect-x', type: 'topic', durable: true, autoDelete: false, internal: false,
        arguments: { 'alternate-exchange': 'amq.fanout' }, builtin: false,
      }]);
      expect(broker.exchange('inspect-x')?.type).to.equal('topic');
    });

    it('bindings() lists queue and exchange bindings, not the implicit default-exchange ones', async () => {
      await ch.assertExchange('inspect-src', 'direct', { durable: false });
      await ch.assertQueue('inspect-bq', { durable: false });
      await ch.bindQueue('inspect-bq', 'inspect-src', 'rk', { 'x-note': 'n' });
      await ch.bindExchange('amq.fanout', 'inspect-src', 'to-fanout');
      const bindings = broker.bindings();
      expect(bindings).to.have.deep.members([
        { vhost: '/', source: 'inspect-src', destination: 'inspect-bq', destinationType: 'queue', routingKey: 'rk', arguments: { 'x-note': 'n' } },
        { vhost: '/', source: 'inspect-src', destination: 'amq.fanout', destinationType: 'exchange', routingKey: 'to-fanout', arguments: {} },
      ]);
      expect(bindings).to.have.length(2);
    });

    it('an unknown vhost is an error, not an empty list', () => {
      expect(() => broker.queues('nope')).to.throw("no vhost 'nope'");
    });
  });

  describe('reset()', () => {
    it('leaves no queue, exchange, binding or message behind, and connections stay usable', async () => {
      const broker = await startBroker();
      try {
        const conn = await connect(broker.url);
        const ch = await conn.createChannel();
        // Every kind of entity: durable and not, exclusive, auto-delete, timers, e2e bindings, messages.
        await ch.assertExchange('r-topic', 'topic', { durable: true });
        await ch.assertExchange('r-auto', 'fanout', { durable: false, autoDelete: true });
        await ch.assertQueue('r-durable', { durable: true });
        await ch.assertQueue('r-ttl', { durable: false, arguments: { 'x-message-ttl': 600000, 'x-expires': 600000 } });
        const { queue: exclusive } = await ch.assertQueue('', { exclusive: true });
        await ch.bindQueue('r-durable', 'r-topic', 'a.#');
        await ch.bindQueue('r-ttl', 'amq.topic', '#');
        await ch.bindQueue(exclusive, 'r-auto', '');
        await ch.bindExchange('r-auto', 'r-topic', 'x.*');
        await ch.bindExchange('amq.fanout', 'amq.direct', 'builtin-to-builtin');
        ch.publish('r-topic', 'a.b', Buffer.from('1'), { persistent: true });
        ch.publish('amq.topic', 'any', Buffer.from('2'));
        await broker.waitFor.messages('r-ttl', 1);
        await broker.waitFor.messages('r-durable', 1);
        // One consumer holding an unacked delivery, whose cancel must reach the client.
        let delivered: amqp.ConsumeMessage | undefined;
        const cancelled = new Promise<void>((resolve) => {
          void ch.consume('r-durable', (msg) => {
            if (msg === null) resolve();
            else delivered = msg;
          });
        });
        await broker.waitFor.unacked('r-durable', 1);
        expect(broker.queues()).to.have.length(3);
        expect(broker.bindings().length).to.be.greaterThan(0);

        await broker.reset();

        expect(broker.queues()).to.deep.equal([]);
        expect(broker.exchanges().filter((x) => !x.builtin)).to.deep.equal([]);
        expect(broker.exchanges().map((x) => x.name)).to.have.members(['', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match', 'amq.rabbitmq.trace']);
        expect(broker.bindings()).to.deep.equal([]);
        await cancelled;
        // Acking a delivery of a deleted queue is harmless; the channel and connection go on.
        ch.ack(delivered!);
        await ch.assertQueue('after-reset', { durable: false });
        ch.sendToQueue('after-reset', Buffer.from('x'));
        expect((await broker.waitFor.messages('after-reset', 1)).messageCount).to.equal(1);
        expect(broker.connectionCount).to.equal(1);
        await conn.close();
      } finally {
        await broker.close();
      }
    });

    it('updates a LevelDB store too: a broker restarted on the same data finds nothing', async () => {
      const dataDir = tempDir('warren-embed-reset-');
      try {
        const first = await startBroker({ store: 'level', dataDir });
        const conn = await connect(first.url);
        const ch = await conn.createConfirmChannel();
        await ch.assertExchange('d-x', 'direct', { durable: true });
        await ch.assertQueue('d-q', { durable: true });
        await ch.bindQueue('d-q', 'd-x', 'k');
        await new Promise<void>((resolve, reject) => {
          ch.publish('d-x', 'k', Buffer.from('stored'), { persistent: true }, (err) => (err ? reject(err) : resolve()));
        });
        await first.reset();
        const closed = closedEvent(conn);
        await first.close();
        await closed;
        const second = await startBroker({ store: 'level', dataDir });
        try {
          expect(second.queues()).to.deep.equal([]);
          expect(second.exchanges().filter((x) => !x.builtin)).to.deep.equal([]);
          expect(second.bindings()).to.deep.equal([]);
        } finally {
          await second.close();
        }
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('waitFor', () => {
    let broker: WarrenBroker;
    let conn: amqp.ChannelModel;
    let ch: amqp.Channel;

    before(async () => {
      broker = await startBroker();
      conn = await connect(broker.url);
      ch = await conn.createChannel();
    });
    after(async () => {
      await conn.close();
      await broker.close();
    });
    afterEach(() => broker.reset());

    it('resolves on the event itself: inside one tx.commit the count passes 3 on its way to 5', async () => {
      // tx.commit enqueues all five messages synchronously, so between two event-loop turns the queue
      // goes from 0 straight to 5. Only a wait notified by each enqueue can observe exactly 3.
      const txCh = await conn.createChannel();
      await txCh.assertQueue('w-tx', { durable: false });
      await txRpc(txCh, TX_SELECT, TX_SELECT_OK);
      const three = broker.waitFor.messages('w-tx', 3);
      for (let i = 0; i < 5; i++) txCh.sendToQueue('w-tx', Buffer.from(String(i)));
      await txRpc(txCh, TX_COMMIT, TX_COMMIT_OK);
      const snapshot = await three;
      expect(snapshot.messageCount).to.equal(3);
      expect(broker.queue('w-tx')?.messageCount).to.equal(5);
      await txCh.close();
    });

    it('queue(), consumer() and consumers(n) resolve when the queue appears and consumers attach', async () => {
      const appears = broker.waitFor.queue('w-later');
      const consumer = broker.waitFor.consumer('w-later');
      const two = broker.waitFor.consumers('w-later', 2);
      await ch.assertQueue('w-later', { durable: false });
      expect((await appears).name).to.equal('w-later');
      const { consumerTag } = await ch.consume('w-later', () => undefined);
      expect((await consumer).consumerCount).to.equal(1);
      await ch.consume('w-later', () => undefined);
      expect((await two).consumerCount).to.equal(2);
      const one = broker.waitFor.consumers('w-later', 1);
      await ch.cancel(consumerTag);
      expect((await one).consumerCount).to.equal(1);
    });

    it('messages(q, 0) resolves when a consumer drains the queue; queueDeleted() when it goes', async () => {
      await ch.assertQueue('w-drain', { durable: false });
      for (let i = 0; i < 4; i++) ch.sendToQueue('w-drain', Buffer.from(String(i)));
      await broker.waitFor.messages('w-drain', 4);
      const drained = broker.waitFor.messages('w-drain', 0);
      const acked = broker.waitFor.until('w-drain', (q) => q !== undefined && q.messageCount === 0 && q.unackedCount === 0);
      await ch.consume('w-drain', (msg) => { if (msg) ch.ack(msg); });
      expect((await drained).messageCount).to.equal(0);
      expect((await acked)?.unackedCount).to.equal(0);
      const gone = broker.waitFor.queueDeleted('w-drain');
      await ch.deleteQueue('w-drain');
      await gone;
      expect(broker.queue('w-drain')).to.equal(undefined);
    });

    it('resolves at once when the condition already holds', async () => {
      await ch.assertQueue('w-now', { durable: false });
      expect((await broker.waitFor.messages('w-now', 0)).name).to.equal('w-now');
      await broker.waitFor.queueDeleted('never-declared');
    });

    it('sees x-message-ttl expiry, which no client action triggers', async () => {
      await ch.assertQueue('w-ttl', { durable: false, arguments: { 'x-message-ttl': 30 } });
      ch.sendToQueue('w-ttl', Buffer.from('short-lived'));
      await broker.waitFor.messages('w-ttl', 1);
      expect((await broker.waitFor.messages('w-ttl', 0, { timeout: 1000 })).messageCount).to.equal(0);
    });

    it('rejects on its timeout with a WaitTimeoutError naming the condition and the actual state', async () => {
      await ch.assertQueue('w-slow', { durable: false });
      ch.sendToQueue('w-slow', Buffer.from('only one'));
      await broker.waitFor.messages('w-slow', 1);
      const started = Date.now();
      const err = await expectRejection(broker.waitFor.messages('w-slow', 2, { timeout: 50 }), /timed out/);
      expect(Date.now() - started).to.be.at.least(45);
      expect(err).to.be.instanceOf(WaitTimeoutError);
      expect(err.name).to.equal('WaitTimeoutError');
      expect(err.message).to.equal("waitFor.messages('w-slow', 2) timed out after 50 ms: queue 'w-slow' in vhost '/' has 1 ready, 0 unacked, 0 consumer(s)");
      // The stack points at the caller, not at a timer.
      expect(err.stack).to.include('embedding.test.js');
      await expectRejection(broker.waitFor.queue('w-absent', { timeout: 20 }), /no queue 'w-absent' in vhost '\/'/);
    });

    it('leaves no timer behind and detaches from the model once nothing waits', async () => {
      await ch.assertQueue('w-clean', { durable: false });
      // Record the timers the waitFor calls create (their timeouts), then check that each was cleared.
      const created = new Set<number>();
      const destroyed = new Set<number>();
      const hook = async_hooks.createHook({
        init(id, type) { if (type === 'Timeout') created.add(id); },
        destroy(id) { destroyed.add(id); },
      }).enable();
      let waits: Array<Promise<unknown>>;
      try {
        waits = [broker.waitFor.messages('w-clean', 1), broker.waitFor.consumer('w-clean')];
      } finally {
        hook.disable();
      }
      expect(created.size).to.equal(2);
      hook.enable();
      try {
        expect(observerOf(broker)).to.not.equal(null);
        ch.sendToQueue('w-clean', Buffer.from('x'));
        await ch.consume('w-clean', () => undefined, { noAck: false });
        await Promise.all(waits);
        expect(observerOf(broker)).to.equal(null);
        await new Promise((r) => setImmediate(r)); // destroy hooks are emitted asynchronously
      } finally {
        hook.disable();
      }
      expect([...created].filter((id) => !destroyed.has(id))).to.deep.equal([]);
    });

    it('rejects a predicate that throws, and an unknown vhost', async () => {
      await expectRejection(broker.waitFor.until('w-throw', () => { throw new Error('bad predicate'); }), /bad predicate/);
      await expectRejection(broker.waitFor.queue('q', { vhost: 'nope' }), /no vhost 'nope'/);
    });

    it('pending waits reject when the broker closes', async () => {
      const other = await startBroker();
      const pending = expectRejection(other.waitFor.queue('never', { timeout: 10000 }), /broker closed/);
      await other.close();
      await pending;
      await expectRejection(other.waitFor.queue('never'), /broker closed/);
    });
  });
});

async function expectRejection(p: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.match(pattern);
    return err as Error;
  }
  throw new Error(`expected a rejection matching ${pattern}`);
}

/** amqplib has no tx API; its channel's rpc() sends any method by id ((class << 16) | method; tx is class 90). */
const TX_SELECT = (90 << 16) | 10;
const TX_SELECT_OK = (90 << 16) | 11;
const TX_COMMIT = (90 << 16) | 20;
const TX_COMMIT_OK = (90 << 16) | 21;
function txRpc(ch: amqp.Channel, method: number, reply: number): Promise<unknown> {
  return (ch as unknown as { rpc(m: number, f: object, r: number): Promise<unknown> }).rpc(method, {}, reply);
}

/** White-box: the zero-cost claim is that the model's observer is null whenever nothing waits. */
function observerOf(broker: WarrenBroker): unknown {
  return (broker as unknown as { warren: { broker: { observer: unknown } } }).warren.broker.observer;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}
