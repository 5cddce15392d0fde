/**
 * The Store contract, run against every implementation (level-store.test.ts, memory-store.test.ts), in the
 * manner of aedes-persistence's abstract.js: whatever passes here can back the broker.
 */
import { expect } from 'chai';
import { StoreError, StoreErrorCode } from '../../../src/store/store.js';
import type {
  BindingRecord, CorruptRecord, EntryRecord, ExchangeRecord, MessageRecord, QueueRecord, Store,
} from '../../../src/store/store.js';
import { type FieldTable, field, tableOf } from '../../../src/types/field-table.js';

/** One test's data location: open it (again and again), then throw it away. */
export interface StoreHarness {
  /** Open a store over this harness's data; opening again after close sees what was written. */
  open(): Promise<Store>;
  /** Delete the data. Called after every store opened on it is closed. */
  destroy(): Promise<void>;
}

export interface Snapshot {
  exchanges: ExchangeRecord[];
  queues: QueueRecord[];
  bindings: BindingRecord[];
  messages: MessageRecord[];
  entries: EntryRecord[];
  corrupt: CorruptRecord[];
}

/** Everything a store holds, read through its recovery reads. */
export async function snapshot(store: Store): Promise<Snapshot> {
  const s: Snapshot = { exchanges: [], queues: [], bindings: [], messages: [], entries: [], corrupt: [] };
  const corrupt = (c: CorruptRecord): void => {
    s.corrupt.push(c);
  };
  await store.readExchanges((r) => {
    s.exchanges.push(r);
  }, corrupt);
  await store.readQueues((r) => {
    s.queues.push(r);
  }, corrupt);
  await store.readBindings((r) => {
    s.bindings.push(r);
  }, corrupt);
  await store.readMessages((r) => {
    s.messages.push(r);
  }, corrupt);
  await store.readEntries((r) => {
    s.entries.push(r);
  }, corrupt);
  return s;
}

/** Tables compare by their entries, type letters included (Buffers by content). */
export function plainTable(t: FieldTable): unknown {
  return [...t].map(([k, v]) => [k, v.type, Buffer.isBuffer(v.value) ? v.value.toString('hex') : v.value]);
}

const ARGS: FieldTable = tableOf([
  ['x-max-length', field.int(10)],
  ['x-dead-letter-exchange', field.str('dlx')],
  ['x-big', { type: 'l', value: 1n << 40n }],
  ['x-flag', field.bool(true)],
]);

export function storeContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let harness: StoreHarness;
    const opened: Store[] = [];

    async function open(): Promise<Store> {
      const store = await harness.open();
      opened.push(store);
      return store;
    }

    /** Close and open again on the same data. */
    async function reopen(store: Store): Promise<Store> {
      await store.close();
      return open();
    }

    beforeEach(async () => {
      harness = await makeHarness();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await harness.destroy();
    });

    it('starts empty', async () => {
      const store = await open();
      const s = await snapshot(store);
      expect(s).to.deep.equal({ exchanges: [], queues: [], bindings: [], messages: [], entries: [], corrupt: [] });
      expect(await store.highestIds()).to.deep.equal({ message: 0, queue: 0 });
    });

    it('keeps exchanges with their type, flags and typed arguments; put replaces, delete removes', async () => {
      let store = await open();
      store.putExchange({ vhost: '/', name: 'logs', type: 'topic', autoDelete: false, internal: false, arguments: ARGS });
      store.putExchange({ vhost: '/', name: 'gone', type: 'fanout', autoDelete: false, internal: false, arguments: tableOf([]) });
      store.putExchange({ vhost: '/', name: 'ae', type: 'direct', autoDelete: true, internal: true, arguments: tableOf([]) });
      store.putExchange({ vhost: '/', name: 'ae', type: 'headers', autoDelete: true, internal: true, arguments: tableOf([]) });
      store.deleteExchange('/', 'gone');
      store.deleteExchange('/', 'never-existed');
      store = await reopen(store);
      const { exchanges } = await snapshot(store);
      expect(exchanges.map((x) => [x.vhost, x.name, x.type, x.autoDelete, x.internal])).to.deep.equal([
        ['/', 'ae', 'headers', true, true],
        ['/', 'logs', 'topic', false, false],
      ]);
      expect(plainTable(exchanges[1]!.arguments)).to.deep.equal(plainTable(ARGS));
    });

    it('keeps queues with their id, auto-delete flag and typed arguments', async () => {
      let store = await open();
      store.putQueue({ vhost: '/', name: 'jobs', id: 7, autoDelete: false, arguments: ARGS });
      store.putQueue({ vhost: 'other', name: 'jobs', id: 9, autoDelete: true, arguments: tableOf([]) });
      store.putQueue({ vhost: '/', name: 'tmp', id: 8, autoDelete: false, arguments: tableOf([]) });
      store.deleteQueue('/', 'tmp');
      store = await reopen(store);
      const { queues } = await snapshot(store);
      expect(queues.map((q) => [q.vhost, q.name, q.id, q.autoDelete])).to.deep.equal([
        ['/', 'jobs', 7, false],
        ['other', 'jobs', 9, true],
      ]);
      expect(plainTable(queues[0]!.arguments)).to.deep.equal(plainTable(ARGS));
    });

    it('never confuses names that are prefixes of one another or contain separators', async () => {
      let store = await open();
      const names: Array<[string, string]> = [
        ['/', 'a'], ['/', 'ab'], ['/a', 'b'], ['/ab', ''], ['', '/ab'], ['/', 'a\u0000b'], ['/', 'ü'], ['/', 'x'.repeat(255)],
      ];
      for (const [vhost, n] of names) store.putQueue({ vhost, name: n, id: 1, autoDelete: false, arguments: tableOf([]) });
      store.deleteQueue('/', 'a');
      store = await reopen(store);
      const { queues } = await snapshot(store);
      expect(queues.map((q) => `${q.vhost}|${q.name}`).sort()).to.deep.equal(
        names.filter(([v, n]) => !(v === '/' && n === 'a')).map(([v, n]) => `${v}|${n}`).sort(),
      );
    });

    it('keeps bindings distinct by source, destination kind, destination, routing key and arguments', async () => {
      let store = await open();
      const base: BindingRecord = {
        vhost: '/', source: 'x', destinationKind: 'queue', destination: 'q', routingKey: 'k', arguments: tableOf([]),
      };
      const variants: BindingRecord[] = [
        base,
        { ...base, routingKey: 'k2' },
        { ...base, routingKey: '' },
        { ...base, destinationKind: 'exchange' },
        { ...base, destination: 'q2' },
        { ...base, source: 'x2' },
        { ...base, arguments: tableOf([['x-match', field.str('any')]]) },
        { ...base, arguments: tableOf([['x-match', field.str('all')]]) },
        { ...base, vhost: 'v' },
      ];
      for (const b of variants) store.putBinding(b);
      store.putBinding(base); // again: still one
      store.deleteBinding({ ...base, routingKey: 'k2' });
      store.deleteBinding({ ...base, routingKey: 'absent' });
      store = await reopen(store);
      const { bindings } = await snapshot(store);
      const text = (b: BindingRecord): string => JSON.stringify([
        b.vhost, b.source, b.destinationKind, b.destination, b.routingKey, plainTable(b.arguments),
      ]);
      expect(bindings.map(text).sort()).to.deep.equal(variants.filter((b) => b.routingKey !== 'k2').map(text).sort());
    });

    it('returns messages byte for byte, by ascending id', async () => {
      let store = await open();
      const ids = [2 ** 32 + 1, 1, 256, 255, 65536, 2 ** 40];
      const bodies = new Map<number, Buffer>();
      for (const id of ids) {
        const body = Buffer.from(`body-${id}`);
        bodies.set(id, body);
        store.addMessage(id, 'amq.direct', `rk-${id}`, Buffer.from([0x10, 0x00, 0x02]), body);
      }
      const big = Buffer.alloc(1024 * 1024, 7);
      store.addMessage(3, '', 'big', Buffer.alloc(0), big);
      store = await reopen(store);
      const { messages } = await snapshot(store);
      expect(messages.map((m) => m.id)).to.deep.equal([1, 3, 255, 256, 65536, 2 ** 32 + 1, 2 ** 40]);
      const m256 = messages.find((m) => m.id === 256)!;
      expect(m256.exchange).to.equal('amq.direct');
      expect(m256.routingKey).to.equal('rk-256');
      expect(m256.properties.equals(Buffer.from([0x10, 0x00, 0x02]))).to.equal(true);
      expect(m256.body.equals(bodies.get(256)!)).to.equal(true);
      const m3 = messages.find((m) => m.id === 3)!;
      expect(m3.properties.length).to.equal(0);
      expect(m3.body.equals(big)).to.equal(true);
    });

    it('returns entries by queue id then seq (FIFO), with their delivered flag, expiry, size, priority and sharing', async () => {
      let store = await open();
      // Out of order on purpose; seqs straddle byte boundaries so big-endian order matters.
      const writes: Array<[number, number]> = [[2, 1], [1, 256], [1, 255], [1, 1], [2, 2 ** 33], [1, 65536], [300, 5]];
      for (const [q, seq] of writes) store.addEntry(q, seq, 1000 + seq, q === 2 ? 1234567890123 : 0, seq % 7, q === 300 ? 255 : 0, q === 300);
      store.markDelivered(1, 255, 1255, 0, 255 % 7, 0, false);
      store = await reopen(store);
      const { entries } = await snapshot(store);
      expect(entries.map((e) => [e.queueId, e.seq])).to.deep.equal([[1, 1], [1, 255], [1, 256], [1, 65536], [2, 1], [2, 2 ** 33], [300, 5]]);
      expect(entries.map((e) => e.delivered)).to.deep.equal([false, true, false, false, false, false, false]);
      expect(entries[4]).to.deep.equal({
        queueId: 2, seq: 1, messageId: 1001, delivered: false, shared: false, expiresAt: 1234567890123, size: 1, priority: 0,
      });
      expect(entries[1]).to.include({ messageId: 1255, delivered: true, size: 255 % 7 });
      expect(entries[6]).to.include({ shared: true, priority: 255, size: 5 });
      expect(entries[0]!.messageId).to.equal(1001);
    });

    it('keeps the largest body size an entry can describe', async () => {
      let store = await open();
      store.addEntry(1, 1, 1, 0, 0xffff_ffff, 9, false);
      store = await reopen(store);
      expect((await snapshot(store)).entries[0]).to.include({ size: 0xffff_ffff, priority: 9 });
    });

    it('loads messages by id in the order asked, undefined for ids without a record', async () => {
      let store = await open();
      for (const id of [5, 2 ** 33, 7]) store.addMessage(id, 'x', `rk${id}`, Buffer.from([0x10, 0x00, 0x02]), Buffer.from(`body-${id}`));
      store.addMessage(8, '', 'gone', Buffer.alloc(0), Buffer.from('gone'));
      await store.flush();
      store.deleteMessage(8);
      store = await reopen(store);
      const got = await store.loadMessages([7, 6, 2 ** 33, 8, 5, 7]);
      expect(got.map((m) => m?.body.toString())).to.deep.equal(['body-7', undefined, `body-${2 ** 33}`, undefined, 'body-5', 'body-7']);
      const m = got[2]!;
      expect([m.id, m.exchange, m.routingKey]).to.deep.equal([2 ** 33, 'x', `rk${2 ** 33}`]);
      expect(m.properties.equals(Buffer.from([0x10, 0x00, 0x02]))).to.equal(true);
      expect(await store.loadMessages([])).to.deep.equal([]);
    });

    it('loads committed messages without waiting for a close or a read', async () => {
      const store = await open();
      store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.from('committed'));
      await store.flush();
      store.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.from('also'));
      const loaded = await new Promise<(MessageRecord | undefined)[]>((resolve, reject) => {
        store.afterCommit(() => {
          store.loadMessages([1, 2]).then(resolve, reject);
        });
      });
      expect(loaded.map((m) => m?.body.toString())).to.deep.equal(['committed', 'also']);
    });

    it('lists message ids in ascending order without their values', async () => {
      let store = await open();
      for (const id of [2 ** 40, 3, 256, 1]) store.addMessage(id, '', 'q', Buffer.alloc(0), Buffer.from(String(id)));
      store.deleteMessage(3);
      store = await reopen(store);
      const ids: number[] = [];
      await store.readMessageIds((id) => {
        ids.push(id);
      }, () => undefined);
      expect(ids).to.deep.equal([1, 256, 2 ** 40]);
    });

    it('waits for a visitor that returns a promise before the next record', async () => {
      let store = await open();
      for (let seq = 1; seq <= 5; seq++) store.addEntry(1, seq, seq, 0, 0, 0, false);
      store = await reopen(store);
      const order: string[] = [];
      await store.readEntries((e) => {
        order.push(`visit ${e.seq}`);
        if (e.seq % 2 === 0) {
          return new Promise<void>((resolve) => setImmediate(() => {
            order.push(`done ${e.seq}`);
            resolve();
          }));
        }
        return undefined;
      }, () => undefined);
      expect(order).to.deep.equal(['visit 1', 'visit 2', 'done 2', 'visit 3', 'visit 4', 'done 4', 'visit 5']);
    });

    it('one message can be referenced by entries of several queues', async () => {
      let store = await open();
      store.addMessage(1, 'fan', '', Buffer.alloc(0), Buffer.from('once'));
      for (let q = 1; q <= 3; q++) store.addEntry(q, 1, 1, 0, 4, 0, true);
      store = await reopen(store);
      const s = await snapshot(store);
      expect(s.messages).to.have.length(1);
      expect(s.entries.map((e) => [e.queueId, e.messageId])).to.deep.equal([[1, 1], [2, 1], [3, 1]]);
    });

    it('deletes entries and messages', async () => {
      let store = await open();
      store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.from('a'));
      store.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.from('b'));
      store.addEntry(1, 1, 1, 0, 1, 0, false);
      store.addEntry(1, 2, 2, 0, 1, 0, false);
      await store.flush();
      store.deleteEntry(1, 1);
      store.deleteMessage(1);
      store.deleteEntry(9, 9); // absent: no-op
      store = await reopen(store);
      const s = await snapshot(store);
      expect(s.messages.map((m) => m.id)).to.deep.equal([2]);
      expect(s.entries.map((e) => e.seq)).to.deep.equal([2]);
    });

    it('a write and its undo in the same turn leave nothing behind', async () => {
      let store = await open();
      store.addMessage(5, '', 'q', Buffer.alloc(0), Buffer.from('short-lived'));
      store.addEntry(1, 1, 5, 0, 11, 0, false);
      store.markDelivered(1, 1, 5, 0, 11, 0, false);
      store.deleteEntry(1, 1);
      store.deleteMessage(5);
      store.putExchange({ vhost: '/', name: 'e', type: 'direct', autoDelete: false, internal: false, arguments: tableOf([]) });
      store.deleteExchange('/', 'e');
      store = await reopen(store);
      const s = await snapshot(store);
      expect(s.messages).to.deep.equal([]);
      expect(s.entries).to.deep.equal([]);
      expect(s.exchanges).to.deep.equal([]);
    });

    it('a record deleted and written again in the same turn is kept', async () => {
      let store = await open();
      store.putQueue({ vhost: '/', name: 'q', id: 1, autoDelete: false, arguments: tableOf([]) });
      store.addEntry(1, 1, 1, 0, 0, 0, false);
      await store.flush();
      store.deleteQueue('/', 'q');
      store.deleteEntry(1, 1);
      store.putQueue({ vhost: '/', name: 'q', id: 2, autoDelete: false, arguments: tableOf([]) });
      store.addEntry(1, 1, 4, 0, 0, 0, false);
      store.deleteEntry(1, 1);
      store = await reopen(store);
      const s = await snapshot(store);
      expect(s.queues.map((q) => q.id)).to.deep.equal([2]);
      expect(s.entries).to.deep.equal([]);
    });

    it('runs afterCommit callbacks asynchronously, in call order, once the writes before them are durable', async () => {
      const store = await open();
      const order: string[] = [];
      store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.from('a'));
      store.afterCommit((err) => order.push(`first:${String(err)}`));
      store.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.from('b'));
      store.afterCommit((err) => order.push(`second:${String(err)}`));
      expect(order, 'never synchronous').to.deep.equal([]);
      expect(store.backlogOps).to.be.greaterThan(0);
      await store.flush();
      expect(order).to.deep.equal(['first:null', 'second:null']);
      expect(store.backlogOps).to.equal(0);
      expect(store.backlogBytes).to.equal(0);
      // Nothing pending: still called, still not synchronously.
      let called = false;
      const done = new Promise<void>((resolve) => store.afterCommit(() => {
        called = true;
        resolve();
      }));
      expect(called).to.equal(false);
      await done;
      expect(called).to.equal(true);
    });

    it('keeps writes made while a commit is in progress for the next one', async () => {
      let store = await open();
      store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.from('a'));
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        store.afterCommit(() => {
          seen.push(1);
          store.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.from('b'));
          store.afterCommit(() => {
            seen.push(2);
            resolve();
          });
        });
      });
      expect(seen).to.deep.equal([1, 2]);
      store = await reopen(store);
      expect((await snapshot(store)).messages.map((m) => m.id)).to.deep.equal([1, 2]);
    });

    it('reports the highest message and queue ids in use', async () => {
      let store = await open();
      store.addMessage(41, '', 'q', Buffer.alloc(0), Buffer.alloc(0));
      store.addMessage(42, '', 'q', Buffer.alloc(0), Buffer.alloc(0));
      store.addMessage(2 ** 33, '', 'q', Buffer.alloc(0), Buffer.alloc(0));
      store.deleteMessage(2 ** 33);
      store.putQueue({ vhost: '/', name: 'a', id: 5, autoDelete: false, arguments: tableOf([]) });
      store.putQueue({ vhost: '/', name: 'b', id: 3, autoDelete: false, arguments: tableOf([]) });
      store.addEntry(11, 1, 41, 0, 0, 0, false); // a queue deleted with unacked entries still holds its id
      store = await reopen(store);
      expect(await store.highestIds()).to.deep.equal({ message: 42, queue: 11 });
    });

    it('refuses a second open of the same data while the first is open', async () => {
      await open();
      let caught: unknown;
      try {
        opened.push(await harness.open());
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(StoreError);
      expect((caught as StoreError).code).to.equal(StoreErrorCode.Locked);
      expect((caught as StoreError).exitCode).to.equal(1);
      expect((caught as StoreError).message).to.match(/in use by another Warren/);
    });

    it('drops writes after close and can be closed twice', async () => {
      let store = await open();
      store.addMessage(1, '', 'q', Buffer.alloc(0), Buffer.from('kept'));
      await store.close();
      store.addMessage(2, '', 'q', Buffer.alloc(0), Buffer.from('dropped'));
      store.deleteMessage(1);
      await store.close();
      store = await open();
      expect((await snapshot(store)).messages.map((m) => m.id)).to.deep.equal([1]);
    });

    it('close writes what is still queued', async () => {
      let store = await open();
      for (let i = 1; i <= 100; i++) store.addMessage(i, '', 'q', Buffer.alloc(0), Buffer.from(String(i)));
      store = await reopen(store);
      expect((await snapshot(store)).messages).to.have.length(100);
    });
  });
}
