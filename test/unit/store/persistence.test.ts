/**
 * Persistence through the broker model: declare and publish via the VirtualHost, close, reopen on the same
 * data, recover into a fresh Broker and check what came back. Runs on both stores (the memory store
 * reopens its MemoryStoreData, the LevelDB store its directory).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { Level } from 'level';
import { Broker } from '../../../src/broker/broker.js';
import { Message, type QueueEntry } from '../../../src/broker/message.js';
import type { Consumer } from '../../../src/broker/consumer.js';
import { HEAD_PAGED, type Queue } from '../../../src/broker/queue.js';
import {
  type ExchangeDeclareCommand, type QueueDeclareCommand, PublishOutcome, type VirtualHost,
} from '../../../src/broker/vhost.js';
import { createLogger } from '../../../src/log.js';
import { type BasicProperties, encodeBasicPropertiesBuffer } from '../../../src/protocol/generated/properties.js';
import { ContentProperties } from '../../../src/server/content-properties.js';
import { KeyPrefix, entityKey, messageKey } from '../../../src/store/keys.js';
import { openLevelStore } from '../../../src/store/level-store.js';
import { MemoryStore, MemoryStoreData } from '../../../src/store/memory-store.js';
import { Persistence, type RecoveryStats } from '../../../src/store/persistence.js';
import type { Store } from '../../../src/store/store.js';
import { type FieldTable, EMPTY_TABLE, field, tableOf } from '../../../src/types/field-table.js';
import { snapshot } from './store-contract.js';

interface Backend {
  readonly name: 'level' | 'memory';
  open(): Promise<Store>;
  destroy(): Promise<void>;
  /** The LevelDB directory (level only). */
  readonly dir?: string;
}

async function levelBackend(): Promise<Backend> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warren-persist-'));
  return { name: 'level', dir, open: () => openLevelStore(dir), destroy: () => fs.rm(dir, { recursive: true, force: true }) };
}

async function memoryBackend(): Promise<Backend> {
  const data = new MemoryStoreData();
  return { name: 'memory', open: async () => new MemoryStore(data), destroy: async () => undefined };
}

/** One broker incarnation over a store. */
class Node {
  private constructor(
    readonly broker: Broker,
    readonly persistence: Persistence,
    readonly stats: RecoveryStats,
  ) {}

  static async start(store: Store, logLines?: string[], memoryBudget?: number): Promise<Node> {
    const broker = new Broker('/');
    let log = createLogger('silent');
    if (logLines !== undefined) {
      const stream = new PassThrough();
      stream.on('data', (d: Buffer) => logLines.push(...d.toString().split('\n').filter((l) => l !== '')));
      log = createLogger('warn', 'json', stream);
    }
    const persistence = new Persistence({
      store, log, properties: (raw) => new ContentProperties(raw), ...(memoryBudget === undefined ? {} : { memoryBudget }),
    });
    const stats = await persistence.recover(broker);
    // Warren runs this in the background after listening; here its counts are part of what is checked.
    await persistence.removeOrphanMessages();
    return new Node(broker, persistence, stats);
  }

  get vhost(): VirtualHost {
    return this.broker.vhost('/')!;
  }

  get store(): Store {
    return this.persistence.store;
  }

  queue(name: string): Queue | undefined {
    return this.vhost.queues.get(name);
  }

  stop(): Promise<void> {
    return this.persistence.close();
  }
}

function exchange(name: string, type: string, durable: boolean, args: FieldTable = EMPTY_TABLE): ExchangeDeclareCommand {
  return { exchange: name, type, passive: false, durable, autoDelete: false, internal: false, arguments: args };
}

function queueCmd(name: string, durable: boolean, more: Partial<QueueDeclareCommand> = {}): QueueDeclareCommand {
  return { queue: name, passive: false, durable, exclusive: false, autoDelete: false, arguments: EMPTY_TABLE, ...more };
}

function message(routingKey: string, body: string, persistent = true, props: BasicProperties = {}, exchangeName = ''): Message {
  const raw = encodeBasicPropertiesBuffer({ deliveryMode: persistent ? 2 : 1, ...props });
  return new Message(exchangeName, routingKey, new ContentProperties(raw), Buffer.from(body));
}

function publish(vhost: VirtualHost, exchangeName: string, routingKey: string, body: string, persistent = true, props: BasicProperties = {}): void {
  expect(vhost.publish(exchangeName, message(routingKey, body, persistent, props, exchangeName))).to.equal(PublishOutcome.Routed);
}

function ready(queue: Queue | undefined): QueueEntry[] {
  expect(queue, 'queue exists').to.not.equal(undefined);
  const out: QueueEntry[] = [];
  const it = queue!.readyEntries();
  for (let r = it.next(); r.done !== true; r = it.next()) out.push(r.value);
  return out;
}

function bodies(queue: Queue | undefined): string[] {
  return ready(queue).map((e) => e.message.body?.toString() ?? '<paged out>');
}

/** basic.get that expects a resident head. */
function take(queue: Queue, noAck = false): QueueEntry {
  const entry = queue.get(noAck);
  if (entry === undefined || entry === HEAD_PAGED) throw new Error(`expected a ready message, got ${String(entry)}`);
  return entry;
}

/** Fetch for a consumer that must ack: the model's basic.get, plus the delivered hook it will call. */
function fetch(node: Node, queue: Queue): QueueEntry {
  const entry = take(queue);
  // Until the model calls VhostPersistence.messageDelivered itself (requested); calling it twice is harmless.
  node.persistence.messageDelivered(queue, entry);
  return entry;
}

for (const makeBackend of [levelBackend, memoryBackend]) {
  describe(`Persistence recovery (${makeBackend === levelBackend ? 'level' : 'memory'} store)`, () => {
    let backend: Backend;
    let node: Node | undefined;

    async function start(logLines?: string[]): Promise<Node> {
      node = await Node.start(await backend.open(), logLines);
      return node;
    }

    async function restart(): Promise<Node> {
      await node!.stop();
      return start();
    }

    beforeEach(async () => {
      backend = await makeBackend();
    });

    afterEach(async () => {
      await node?.stop();
      node = undefined;
      await backend.destroy();
    });

    it('restores durable exchanges, queues (with arguments) and bindings; nothing else', async () => {
      let n = await start();
      const v = n.vhost;
      const qArgs = tableOf([['x-max-length', field.int(100)], ['x-dead-letter-exchange', field.str('dlx')]]);
      v.declareExchange(exchange('logs', 'topic', true, tableOf([['alternate-exchange', field.str('ae')]])));
      v.declareExchange(exchange('ae', 'fanout', true));
      v.declareExchange(exchange('dlx', 'direct', true));
      v.declareExchange(exchange('scratch', 'direct', false));
      v.declareExchange(exchange('doomed', 'direct', true));
      v.declareQueue(queueCmd('jobs', true, { arguments: qArgs }), null);
      v.declareQueue(queueCmd('transient', false), null);
      v.declareQueue(queueCmd('mine', true, { exclusive: true }), {});
      v.declareQueue(queueCmd('gone', true), null);
      v.declareQueue(queueCmd('ad', true, { autoDelete: true }), null);
      v.bindQueue({ queue: 'jobs', exchange: 'logs', routingKey: 'app.#', arguments: EMPTY_TABLE }, null);
      v.bindQueue({ queue: 'jobs', exchange: 'logs', routingKey: 'app.*', arguments: tableOf([['k', field.int(1)]]) }, null);
      v.bindQueue({ queue: 'jobs', exchange: 'logs', routingKey: 'unbound', arguments: EMPTY_TABLE }, null);
      v.bindQueue({ queue: 'transient', exchange: 'logs', routingKey: '#', arguments: EMPTY_TABLE }, null);
      v.bindQueue({ queue: 'jobs', exchange: 'scratch', routingKey: 'k', arguments: EMPTY_TABLE }, null);
      v.bindQueue({ queue: 'gone', exchange: 'logs', routingKey: 'g', arguments: EMPTY_TABLE }, null);
      v.bindExchange({ destination: 'logs', source: 'ae', routingKey: '', arguments: EMPTY_TABLE });
      v.bindQueue({ queue: 'jobs', exchange: 'doomed', routingKey: 'd', arguments: EMPTY_TABLE }, null);
      v.unbindQueue({ queue: 'jobs', exchange: 'logs', routingKey: 'unbound', arguments: EMPTY_TABLE });
      v.deleteQueue({ queue: 'gone', ifUnused: false, ifEmpty: false }, null);
      v.deleteExchange({ exchange: 'doomed', ifUnused: false });
      const stored = await snapshot(n.store);
      expect(stored.bindings.map((b) => `${b.source}:${b.routingKey}`).sort(), 'bindings removed when deleted')
        .to.deep.equal(['ae:', 'logs:app.#', 'logs:app.*']);

      n = await restart();
      const r = n.vhost;
      expect([...r.exchanges.keys()].filter((x) => x !== '' && !x.startsWith('amq.')).sort()).to.deep.equal(['ae', 'dlx', 'logs']);
      expect(r.exchanges.get('logs')!.type).to.equal('topic');
      expect(r.exchanges.get('logs')!.alternateExchange).to.equal('ae');
      expect([...r.queues.keys()].sort()).to.deep.equal(['ad', 'jobs']);
      const jobs = r.queues.get('jobs')!;
      expect(jobs.durable).to.equal(true);
      expect(jobs.policy.maxLength).to.equal(100);
      expect(jobs.policy.deadLetterExchange).to.equal('dlx');
      expect(r.queues.get('ad')!.autoDelete).to.equal(true);
      const bindings = [...r.bindings()].map((b) => `${b.source}->${b.destination.kind}:${b.destination.name}:${b.routingKey}:${b.arguments.size}`).sort();
      expect(bindings).to.deep.equal(['ae->exchange:logs::0', 'logs->queue:jobs:app.#:0', 'logs->queue:jobs:app.*:1']);
      expect(n.stats).to.include({ exchanges: 3, queues: 2, bindings: 3, corrupt: 0, refused: 0, orphanBindings: 0 });
      // The restored indexes route: through the alternate exchange's binding into logs, then to jobs.
      publish(r, 'ae', 'app.start', 'routed');
      expect(bodies(jobs)).to.deep.equal(['routed']);
    });

    it('recovery replays through the vhost without writing the topology back', async () => {
      let n = await start();
      n.vhost.declareExchange(exchange('x', 'direct', true));
      n.vhost.declareQueue(queueCmd('q', true), null);
      n.vhost.bindQueue({ queue: 'q', exchange: 'x', routingKey: 'k', arguments: EMPTY_TABLE }, null);
      n = await restart();
      await n.store.flush();
      expect(n.store.stats.ops).to.equal(0);
    });

    it('brings back persistent messages of durable queues in order; transient ones and non-durable queues stay empty', async () => {
      let n = await start();
      const v = n.vhost;
      v.declareQueue(queueCmd('d', true), null);
      v.declareQueue(queueCmd('t', false), null);
      for (let i = 1; i <= 20; i++) publish(v, '', 'd', `m${i}`, i % 3 !== 0);
      publish(v, '', 't', 'lost', true);
      await n.store.flush();
      const stored = await snapshot(n.store);
      expect(stored.messages).to.have.length(14);

      n = await restart();
      const expected = Array.from({ length: 20 }, (_, k) => k + 1).filter((i) => i % 3 !== 0).map((i) => `m${i}`);
      expect(bodies(n.queue('d'))).to.deep.equal(expected);
      expect(ready(n.queue('d')).every((e) => !e.redelivered)).to.equal(true);
      expect(n.queue('t')).to.equal(undefined);
      expect(n.stats).to.include({ messages: 14, entries: 14, redelivered: 0 });
      // Recovered properties are the raw bytes that were published.
      const first = ready(n.queue('d'))[0]!;
      expect(first.message.properties!.deliveryMode).to.equal(2);
      expect(first.message.properties!.raw.equals(encodeBasicPropertiesBuffer({ deliveryMode: 2 }))).to.equal(true);
    });

    it('stores a message routed to several durable queues once, with one entry per queue', async () => {
      let n = await start();
      const v = n.vhost;
      v.declareExchange(exchange('fan', 'fanout', true));
      for (const q of ['a', 'b', 'c']) {
        v.declareQueue(queueCmd(q, q !== 'c'), null);
        v.bindQueue({ queue: q, exchange: 'fan', routingKey: '', arguments: EMPTY_TABLE }, null);
      }
      publish(v, 'fan', '', 'shared');
      const s = await snapshot(n.store);
      expect(s.messages).to.have.length(1);
      expect(s.entries).to.have.length(2);
      // Settling the copy in the non-durable queue does not touch the stored message.
      n.queue('c')!.ack(take(n.queue('c')!));

      n = await restart();
      expect(bodies(n.queue('a'))).to.deep.equal(['shared']);
      expect(bodies(n.queue('b'))).to.deep.equal(['shared']);
      expect(n.stats).to.include({ messages: 1, entries: 2 });
      // The record stays until the last queue holding it acks.
      n.queue('a')!.ack(fetch(n, n.queue('a')!));
      expect((await snapshot(n.store)).messages).to.have.length(1);
      n.queue('b')!.ack(fetch(n, n.queue('b')!));
      const after = await snapshot(n.store);
      expect(after.messages).to.have.length(0);
      expect(after.entries).to.have.length(0);
    });

    it('forgets acked messages and brings delivered-but-unacked ones back redelivered, in their places', async () => {
      let n = await start();
      const v = n.vhost;
      v.declareQueue(queueCmd('q', true), null);
      for (let i = 1; i <= 5; i++) publish(v, '', 'q', `m${i}`);
      await n.store.flush();
      const q = n.queue('q')!;
      const e1 = fetch(n, q);
      const e2 = fetch(n, q);
      fetch(n, q); // m3: delivered, never acked
      q.ack(e1);
      q.requeue([e2]); // m2: back in the queue, delivered once already
      expect(q.get(true)).to.not.equal(undefined); // m2 again, no-ack: settled at once

      n = await restart();
      const entries = ready(n.queue('q'));
      expect(entries.map((e) => [e.message.body!.toString(), e.redelivered])).to.deep.equal([
        ['m3', true], ['m4', false], ['m5', false],
      ]);
      expect(n.stats.redelivered).to.equal(1);
    });

    it('a message published and acked within one turn never reaches the disk', async () => {
      const n = await start();
      n.vhost.declareQueue(queueCmd('q', true), null);
      await n.store.flush();
      const before = { ...n.store.stats };
      publish(n.vhost, '', 'q', 'fleeting');
      const q = n.queue('q')!;
      q.ack(fetch(n, q));
      await n.store.flush();
      if (backend.name === 'level') expect(n.store.stats.ops - before.ops).to.equal(0);
      expect((await snapshot(n.store)).messages).to.deep.equal([]);
    });

    it('continues message and queue ids after a restart, keeping old messages ahead of new ones', async () => {
      let n = await start();
      n.vhost.declareQueue(queueCmd('q', true), null);
      publish(n.vhost, '', 'q', 'old1');
      publish(n.vhost, '', 'q', 'old2');
      n = await restart();
      publish(n.vhost, '', 'q', 'new1');
      n.vhost.declareQueue(queueCmd('q2', true), null);
      publish(n.vhost, '', 'q2', 'other');
      const s = await snapshot(n.store);
      expect(s.messages.map((m) => m.id)).to.deep.equal([1, 2, 3, 4]);
      expect(s.queues.map((r) => r.id).sort()).to.deep.equal([1, 2]);
      n = await restart();
      expect(bodies(n.queue('q'))).to.deep.equal(['old1', 'old2', 'new1']);
      expect(bodies(n.queue('q2'))).to.deep.equal(['other']);
    });

    it('a queue deleted with unacked messages and declared again starts empty; leftovers are removed at startup', async () => {
      let n = await start();
      n.vhost.declareQueue(queueCmd('q', true), null);
      publish(n.vhost, '', 'q', 'from-the-old-queue');
      const old = n.queue('q')!;
      fetch(n, old); // unacked when the queue goes
      n.vhost.deleteQueue({ queue: 'q', ifUnused: false, ifEmpty: false }, null);
      n.vhost.declareQueue(queueCmd('q', true), null);
      publish(n.vhost, '', 'q', 'new');

      n = await restart();
      expect(bodies(n.queue('q'))).to.deep.equal(['new']);
      expect(n.stats).to.include({ orphanEntries: 1, orphanMessages: 1, messages: 1 });
      const s = await snapshot(n.store);
      expect(s.entries).to.have.length(1);
      expect(s.messages.map((m) => m.body.toString())).to.deep.equal(['new']);
    });

    it('drops entries whose time to live passed while the broker was down, and deletes them', async () => {
      let n = await start();
      n.vhost.declareQueue(queueCmd('q', true), null);
      publish(n.vhost, '', 'q', 'live');
      await n.stop();
      // An entry ahead of it whose expiry passed while the broker was down.
      const store = await backend.open();
      const e = (await snapshot(store)).entries[0]!;
      store.addMessage(100, '', 'q', encodeBasicPropertiesBuffer({ deliveryMode: 2, expiration: '60000' }), Buffer.from('stale'));
      store.addEntry(e.queueId, e.seq - 1, 100, 1, 5, 0, false);
      await store.close();

      n = await start();
      expect(bodies(n.queue('q'))).to.deep.equal(['live']);
      const after = await snapshot(n.store);
      expect(after.entries.map((x) => x.seq)).to.deep.equal([e.seq]);
      expect(after.messages.map((m) => m.body.toString())).to.deep.equal(['live']);
      // New publishes go after the highest recovered seq, with ids after the highest stored one.
      publish(n.vhost, '', 'q', 'later');
      const later = await snapshot(n.store);
      expect(later.entries.map((x) => x.seq)).to.deep.equal([e.seq, e.seq + 1]);
      expect(later.messages.map((m) => m.id)).to.deep.equal([e.messageId, 101]);
    });

    it('starts with an empty broker from an empty store', async () => {
      const n = await start();
      expect(n.stats).to.include({ exchanges: 0, queues: 0, bindings: 0, messages: 0 });
      expect(n.vhost.persistence).to.equal(n.persistence);
    });
  });
}

/** A no-ack consumer that resolves once it has `n` messages. */
function consumeAll(queue: Queue, n: number): Promise<string[]> {
  return new Promise((resolve) => {
    const got: string[] = [];
    const consumer: Consumer = {
      tag: 'all', noAck: true, exclusive: false, arguments: EMPTY_TABLE, priority: 0,
      canTake: () => true,
      deliver: (_q, entry) => {
        got.push(entry.message.body!.toString());
        if (got.length === n) resolve(got);
      },
      cancelledByBroker: () => undefined,
    };
    queue.addConsumer(consumer);
  });
}

describe('Persistence: long queues under a memory budget (level store)', () => {
  let backend: Backend;
  let node: Node | undefined;
  const body = (i: number): string => `m${i}:`.padEnd(1024, 'x');

  beforeEach(async () => {
    backend = await levelBackend();
  });

  afterEach(async () => {
    await node?.stop();
    node = undefined;
    await backend.destroy();
  });

  it('pages out past the budget, recovers mostly paged out reading only the window, and reads back in order', async () => {
    // 16 KiB: a read-ahead window of 4 KiB, i.e. four 1 KiB messages.
    node = await Node.start(await backend.open(), undefined, 16 * 1024);
    const v = node.vhost;
    v.declareQueue(queueCmd('long', true), null);
    v.declareExchange(exchange('fan', 'fanout', true));
    for (const q of ['a', 'b']) {
      v.declareQueue(queueCmd(q, true), null);
      v.bindQueue({ queue: q, exchange: 'fan', routingKey: '', arguments: EMPTY_TABLE }, null);
    }
    publish(v, 'fan', '', 'shared');
    for (let i = 0; i < 100; i++) publish(v, '', 'long', body(i));
    // Page-outs run once what they page is on disk.
    await node.store.flush();
    await node.store.flush();
    const long = node.queue('long')!;
    expect(long.pagedCount).to.be.greaterThan(80);
    expect(node.persistence.budget!.residentBytes).to.be.at.most(16 * 1024);

    await node.stop();
    node = await Node.start(await backend.open(), undefined, 16 * 1024);
    expect(node.stats).to.include({ entries: 102, messages: 101, paged: 96 });
    const budget = node.persistence.budget!;
    expect(budget.pagedInCount).to.equal(0);
    const [a, b] = [ready(node.queue('a'))[0]!, ready(node.queue('b'))[0]!];
    // Messages in several queues come back as one resident object.
    expect(a.message).to.equal(b.message);
    expect(a.message.body!.toString()).to.equal('shared');
    expect(a.message.storeRefs).to.equal(2);
    const recovered = node.queue('long')!;
    expect(bodies(recovered).slice(0, 5)).to.deep.equal([body(0), body(1), body(2), body(3), '<paged out>']);
    expect(await consumeAll(recovered, 100)).to.deep.equal(Array.from({ length: 100 }, (_, i) => body(i)));
    expect(budget.pagedInCount).to.equal(96);
    expect(budget.residentBytes).to.equal('shared'.length);
    // Consumed with no-ack: every record of the long queue is gone.
    await node.store.flush();
    expect((await snapshot(node.store)).entries).to.have.length(2);
  });

  it('skips a paged-out message whose record has gone missing, logging it, and serves the rest', async () => {
    node = await Node.start(await backend.open(), undefined, 16 * 1024);
    node.vhost.declareQueue(queueCmd('long', true), null);
    for (let i = 0; i < 20; i++) publish(node.vhost, '', 'long', body(i));
    await node.stop();
    node = undefined;
    const raw = new Level<Buffer, Buffer>(backend.dir!, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    await raw.del(messageKey(11));
    await raw.close();
    const lines: string[] = [];
    node = await Node.start(await backend.open(), lines, 16 * 1024);
    expect(node.stats.paged).to.equal(16);
    const got = await consumeAll(node.queue('long')!, 19);
    expect(got).to.deep.equal(Array.from({ length: 20 }, (_, i) => body(i)).filter((_, i) => i !== 10));
    expect(lines.some((l) => l.includes('message 11') && l.includes(messageKey(11).toString('hex')))).to.equal(true);
  });
});

describe('Persistence recovery: damaged data (level store)', () => {
  let backend: Backend;
  let node: Node | undefined;

  beforeEach(async () => {
    backend = await levelBackend();
  });

  afterEach(async () => {
    await node?.stop();
    node = undefined;
    await backend.destroy();
  });

  it('logs undecodable records with their key, skips and counts them, and recovers the rest', async () => {
    node = await Node.start(await backend.open());
    node.vhost.declareQueue(queueCmd('good', true), null);
    node.vhost.declareQueue(queueCmd('bad', true), null);
    publish(node.vhost, '', 'good', 'm1');
    publish(node.vhost, '', 'good', 'm2');
    await node.stop();
    node = undefined;

    const raw = new Level<Buffer, Buffer>(backend.dir!, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    const badQueue = entityKey(KeyPrefix.Queue, '/', 'bad');
    await raw.put(badQueue, Buffer.of(1, 2, 3));
    await raw.put(messageKey(1), Buffer.of(7)); // m1's record: unknown version
    await raw.close();

    const lines: string[] = [];
    node = await Node.start(await backend.open(), lines);
    expect(node.queue('bad')).to.equal(undefined);
    expect(bodies(node.queue('good'))).to.deep.equal(['m2']);
    // m1's entry lost its message; with damaged records around, it is left in place, not deleted.
    expect(node.stats).to.include({ corrupt: 2, danglingEntries: 0, keptLeftovers: 1, queues: 1, messages: 1 });
    expect((await snapshot(node.store)).entries).to.have.length(2);
    const logged = lines.map((l) => JSON.parse(l) as { message: string; key?: string });
    expect(logged.filter((l) => l.key === badQueue.toString('hex'))).to.have.length(1);
    expect(logged.filter((l) => l.key === messageKey(1).toString('hex'))).to.have.length(1);
    expect(logged.find((l) => l.key === messageKey(1).toString('hex'))!.message).to.match(/record version 7/);
  });

  it('counts topology the model refuses instead of failing, and keeps it', async () => {
    const store = await backend.open();
    store.putExchange({ vhost: '/', name: 'odd', type: 'x-unknown-type', autoDelete: false, internal: false, arguments: EMPTY_TABLE });
    store.putExchange({ vhost: '/', name: 'h', type: 'headers', autoDelete: false, internal: false, arguments: EMPTY_TABLE });
    store.putQueue({ vhost: '/', name: 'q', id: 1, autoDelete: false, arguments: EMPTY_TABLE });
    const badArgs = tableOf([['x-match', field.str('neither')]]);
    store.putBinding({ vhost: '/', source: 'h', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: badArgs });
    store.putBinding({ vhost: '/', source: 'odd', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: EMPTY_TABLE });
    await store.close();
    const lines: string[] = [];
    node = await Node.start(await backend.open(), lines);
    expect(node.stats).to.include({ refused: 3, orphanBindings: 0, exchanges: 1, queues: 1, bindings: 0 });
    expect(lines.filter((l) => l.includes('the broker refused'))).to.have.length(3);
    // A later Warren may accept them: the records stay.
    const s = await snapshot(node.store);
    expect(s.exchanges.map((x) => x.name)).to.deep.equal(['h', 'odd']);
    expect(s.bindings).to.have.length(2);
  });

  it('removes bindings whose ends are gone when every record is sound', async () => {
    const store = await backend.open();
    store.putQueue({ vhost: '/', name: 'q', id: 1, autoDelete: false, arguments: EMPTY_TABLE });
    store.putBinding({ vhost: '/', source: 'missing', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: EMPTY_TABLE });
    store.putBinding({ vhost: '/', source: 'amq.topic', destinationKind: 'queue', destination: 'q', routingKey: '#', arguments: EMPTY_TABLE });
    await store.close();
    node = await Node.start(await backend.open());
    expect(node.stats).to.include({ refused: 0, orphanBindings: 1, bindings: 1 });
    expect((await snapshot(node.store)).bindings.map((b) => b.source)).to.deep.equal(['amq.topic']);
  });

  it('keeps the messages of a queue the model refuses', async () => {
    const store = await backend.open();
    store.putQueue({ vhost: '/', name: 'strict', id: 4, autoDelete: false, arguments: tableOf([['x-max-length', field.int(-1)]]) });
    store.addMessage(1, '', 'strict', encodeBasicPropertiesBuffer({ deliveryMode: 2 }), Buffer.from('precious'));
    store.addEntry(4, 1, 1, 0, 8, 0, false);
    await store.close();
    node = await Node.start(await backend.open(), []);
    expect(node.queue('strict')).to.equal(undefined);
    expect(node.stats).to.include({ refused: 1, keptLeftovers: 2, orphanEntries: 0, orphanMessages: 0 });
    const s = await snapshot(node.store);
    expect([s.entries.length, s.messages.length]).to.deep.equal([1, 1]);
  });

  it('keeps bindings with a missing end when a topology record was corrupt', async () => {
    const store = await backend.open();
    store.putBinding({ vhost: '/', source: 'x', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: EMPTY_TABLE });
    await store.close();
    const raw = new Level<Buffer, Buffer>(backend.dir!, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await raw.open();
    await raw.put(entityKey(KeyPrefix.Exchange, '/', 'x'), Buffer.of(1));
    await raw.close();
    node = await Node.start(await backend.open(), []);
    expect(node.stats).to.include({ corrupt: 1, refused: 1, orphanBindings: 0 });
    expect((await snapshot(node.store)).bindings).to.have.length(1);
  });
});
