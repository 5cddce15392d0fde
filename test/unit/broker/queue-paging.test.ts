/**
 * A queue's residency bookkeeping under a memory budget, with a fake host and a fake store whose commits
 * and reads complete only when the test says so: page-out beyond the read-ahead window once committed,
 * read-ahead one batch at a time, delivery and basic.get stopping at a paged-out head, requeue, purge,
 * expiry, drop-head, lost records.
 */
import { expect } from 'chai';
import type { Consumer } from '../../../src/broker/consumer.js';
import { MemoryBudget, type PageSource, type StoredContent } from '../../../src/broker/memory-budget.js';
import { Message, QueueEntry } from '../../../src/broker/message.js';
import { parseQueueArguments } from '../../../src/broker/queue-arguments.js';
import { type DeadLetterReason, HEAD_PAGED, Queue, type QueueHost } from '../../../src/broker/queue.js';
import { encodeBasicPropertiesBuffer } from '../../../src/protocol/generated/properties.js';
import { ContentProperties } from '../../../src/server/content-properties.js';
import { type FieldTable, EMPTY_TABLE, field, tableOf } from '../../../src/types/field-table.js';

const KIB = 1024;

/** A store that commits and reads back only when told. */
class FakeSource implements PageSource {
  readonly records = new Map<number, StoredContent>();
  private commits: Array<(error: Error | null) => void> = [];
  readonly loads: Array<{ ids: number[]; done: (error: Error | null, content: readonly (StoredContent | undefined)[]) => void }> = [];
  loadedIds: number[] = [];

  afterCommit(callback: (error: Error | null) => void): void {
    this.commits.push(callback);
  }

  loadContent(ids: readonly number[], done: (error: Error | null, content: readonly (StoredContent | undefined)[]) => void): void {
    this.loads.push({ ids: [...ids], done });
  }

  /** One commit: the callbacks registered so far run (they may register more, for the next commit). */
  commit(): void {
    for (const cb of this.commits.splice(0)) cb(null);
  }

  /** Commit until nothing waits for a commit. */
  commitAll(): void {
    while (this.commits.length > 0) this.commit();
  }

  get pendingCommits(): number {
    return this.commits.length;
  }

  /** Complete the (single) read in flight. */
  completeLoad(): number[] {
    expect(this.loads, 'one read in flight').to.have.length(1);
    const { ids, done } = this.loads.shift()!;
    this.loadedIds.push(...ids);
    done(null, ids.map((id) => this.records.get(id)));
    return ids;
  }
}

/** The vhost's part, with Persistence's bookkeeping (store ids, refs, budget accounting). */
class FakeHost implements QueueHost {
  readonly name = '/';
  readonly source = new FakeSource();
  readonly budget: MemoryBudget;
  readonly deadLettered: Array<{ body: string; reason: DeadLetterReason }> = [];
  readonly settledIds: number[] = [];
  private nextId = 1;

  constructor(limit: number) {
    this.budget = new MemoryBudget(limit, this.source);
  }

  expireQueue(): void {}

  deadLetter(_queue: Queue, message: Message, reason: DeadLetterReason): void {
    this.deadLettered.push({ body: message.body!.toString(), reason });
  }

  settled(_queue: Queue, entry: QueueEntry): void {
    const m = entry.message;
    if (m.storeId === 0) return;
    this.settledIds.push(m.storeId);
    if (--m.storeRefs === 0) {
      if (m.body !== null) this.budget.remove(m.size);
      this.source.records.delete(m.storeId);
      m.storeId = 0;
    }
  }

  enqueued(queue: Queue, entry: QueueEntry): void {
    const m = entry.message;
    if (!queue.durable || !m.persistent) return;
    if (m.storeId === 0) {
      m.storeId = this.nextId++;
      this.source.records.set(m.storeId, { exchange: m.exchange, routingKey: m.routingKey, properties: m.properties!, body: m.body! });
      this.budget.add(m.size);
    }
    m.storeRefs++;
  }

  delivered(): void {}
}

class FakeConsumer implements Consumer {
  readonly noAck = true;
  readonly exclusive = false;
  readonly arguments = EMPTY_TABLE;
  readonly priority = 0;
  readonly got: string[] = [];
  credit = Infinity;

  constructor(readonly tag = 'c') {}

  canTake(): boolean {
    return this.credit > 0;
  }

  deliver(_queue: Queue, entry: QueueEntry): void {
    this.credit--;
    // Delivery must only ever see resident messages.
    expect(entry.message.body, 'delivered resident').to.not.equal(null);
    this.got.push(entry.message.body!.toString());
  }

  cancelledByBroker(): void {}
}

function message(body: string, options: { persistent?: boolean; size?: number; expiration?: string } = {}): Message {
  const raw = encodeBasicPropertiesBuffer({
    deliveryMode: options.persistent === false ? 1 : 2,
    ...(options.expiration === undefined ? {} : { expiration: options.expiration }),
  });
  const size = options.size ?? KIB;
  return new Message('', 'q', new ContentProperties(raw), Buffer.from(body.padEnd(size, '.')));
}

function makeQueue(host: FakeHost, args: FieldTable = EMPTY_TABLE, durable = true): Queue {
  const policy = parseQueueArguments(args, "queue 'q'", { durable, exclusive: false, autoDelete: false });
  return new Queue(host, 'q', { durable, exclusiveOwner: null, autoDelete: false, arguments: args, policy });
}

function residency(queue: Queue): string {
  let out = '';
  const it = queue.readyEntries();
  for (let r = it.next(); r.done !== true; r = it.next()) out += r.value.message.body === null ? 'p' : 'R';
  return out;
}

function label(body: string): string {
  return body.replace(/\.+$/, '');
}

function publish(queue: Queue, from: number, to: number, options: { persistent?: boolean; size?: number } = {}): void {
  for (let i = from; i < to; i++) expect(queue.enqueue(message(`m${i}`, options))).to.equal(true);
}

/** Drain with a consumer, completing reads as the queue asks for them; returns the labels in order. */
function drain(host: FakeHost, queue: Queue, consumer = new FakeConsumer()): string[] {
  queue.addConsumer(consumer);
  while (host.source.loads.length > 0) host.source.completeLoad();
  return consumer.got.map(label);
}

// A 64 KiB budget: a 16 KiB read-ahead window (16 messages of 1 KiB); page-out stops at 56 KiB.
const LIMIT = 64 * KIB;

describe('Queue paging (memory budget)', () => {
  it('pages out committed, stored messages beyond the read-ahead window until under the target', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 100);
    // Over budget since message 64: a page-out waits for the commit, nothing is paged yet.
    expect(q.pagedCount).to.equal(0);
    expect(host.source.pendingCommits).to.equal(1);
    host.source.commitAll();
    expect(residency(q)).to.equal('R'.repeat(16) + 'p'.repeat(44) + 'R'.repeat(40));
    expect(host.budget.residentBytes).to.equal(56 * KIB);
    expect(host.budget.pagedOutCount).to.equal(44);
    expect(q.messageCount).to.equal(100);
    expect(q.readyBytes).to.equal(100 * KIB);
  });

  it('pages out only entries written before the commit it waited for; later ones after the next commit', () => {
    // A zero budget: everything beyond a one-message window goes, as soon as it is known to be on disk.
    const host = new FakeHost(0);
    const q = makeQueue(host);
    publish(q, 0, 10);
    host.source.commit();
    // The page-out was requested while message 0 was being stored, before this queue was watched.
    expect(residency(q)).to.equal('R'.repeat(10));
    host.source.commit();
    expect(residency(q)).to.equal('R' + 'p'.repeat(9));
    publish(q, 10, 20);
    // Again requested while message 10 was stored, before the queue (done scanning) rejoined the watch list.
    host.source.commit();
    expect(residency(q)).to.equal('R' + 'p'.repeat(9) + 'R'.repeat(10));
    host.source.commit();
    expect(residency(q)).to.equal('R' + 'p'.repeat(19));
    expect(host.source.pendingCommits).to.equal(0);
    expect(host.budget.residentBytes).to.equal(KIB);
  });

  it('never pages transient messages, messages in several queues, or a priority queue', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 40);
    publish(q, 40, 60, { persistent: false });
    const fanned = message('shared');
    fanned.markShared();
    q.enqueue(fanned);
    publish(q, 61, 120);
    host.source.commitAll();
    const r = residency(q);
    expect(r.slice(40, 61)).to.equal('R'.repeat(21));
    expect(r).to.contain('p');
    const priority = makeQueue(host, tableOf([['x-max-priority', field.int(5)]]));
    publish(priority, 0, 50);
    host.source.commitAll();
    expect(residency(priority)).to.not.contain('p');
    expect(priority.pages).to.equal(false);
  });

  it('delivers in order across paged-out entries, one read in flight, and reads only what it pages in', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 200);
    host.source.commitAll();
    const paged = q.pagedCount;
    expect(paged).to.be.greaterThan(100);
    const consumer = new FakeConsumer();
    q.addConsumer(consumer);
    // Delivery stopped at the first paged-out head and asked for a read.
    expect(consumer.got.length).to.be.lessThan(200);
    expect(host.source.loads).to.have.length(1);
    const got = drain(host, q, consumer);
    expect(got).to.deep.equal(Array.from({ length: 200 }, (_, i) => `m${i}`));
    expect(host.source.loadedIds).to.have.length(paged);
    expect(new Set(host.source.loadedIds).size).to.equal(paged);
    expect(q.pagedCount).to.equal(0);
    expect(q.messageCount).to.equal(0);
    expect(host.budget.residentBytes).to.equal(0);
  });

  it('reads ahead while the consumer still has resident messages (below half the window)', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 100);
    host.source.commitAll();
    const consumer = new FakeConsumer();
    consumer.credit = 9; // the window is 16: at 7 resident left, a read starts
    q.addConsumer(consumer);
    expect(consumer.got).to.have.length(9);
    expect(host.source.loads).to.have.length(1);
    expect(host.source.loads[0]!.ids).to.have.length(9); // refills the window to 16
    host.source.completeLoad();
    expect(residency(q).slice(0, 16)).to.equal('R'.repeat(16));
  });

  it('basic.get answers HEAD_PAGED at a paged-out head and wakes its waiter once it is read back', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 100);
    host.source.commitAll();
    // Take the resident window without completing the read it starts.
    for (let i = 0; i < 16; i++) {
      const e = q.get(true);
      expect(e).to.not.equal(HEAD_PAGED);
      expect(label((e as QueueEntry).message.body!.toString())).to.equal(`m${i}`);
    }
    expect(q.get(true)).to.equal(HEAD_PAGED);
    expect(q.messageCount).to.equal(84);
    let woken = 0;
    q.whenHeadReadable(() => woken++);
    expect(woken).to.equal(0);
    host.source.completeLoad();
    expect(woken).to.equal(1);
    const next = q.get(true) as QueueEntry;
    expect(label(next.message.body!.toString())).to.equal('m16');
  });

  it('requeued entries go back resident, in their places, ahead of paged-out ones', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 100);
    host.source.commitAll();
    const taken: QueueEntry[] = [];
    for (let i = 0; i < 16; i++) {
      const e = q.get(false);
      taken.push(e as QueueEntry);
    }
    expect(q.get(false)).to.equal(HEAD_PAGED);
    q.requeue(taken.slice(3, 8));
    expect(residency(q).slice(0, 6)).to.equal('RRRRRp');
    expect(label((q.get(true) as QueueEntry).message.body!.toString())).to.equal('m3');
    const got = drain(host, q);
    expect(got).to.deep.equal(['m4', 'm5', 'm6', 'm7', ...Array.from({ length: 84 }, (_, i) => `m${i + 16}`)]);
  });

  it('purge and delete settle paged-out entries by store id and wake a waiting get', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 100);
    host.source.commitAll();
    for (let i = 0; i < 16; i++) q.get(true);
    expect(q.get(true)).to.equal(HEAD_PAGED);
    let woken = false;
    q.whenHeadReadable(() => {
      woken = true;
    });
    expect(q.purge()).to.equal(84);
    expect(woken).to.equal(true);
    expect(q.get(true)).to.equal(undefined);
    expect(host.source.records.size).to.equal(0);
    expect(host.budget.residentBytes).to.equal(0);
    // The read that was in flight finds its messages settled: nothing comes back to life.
    host.source.completeLoad();
    expect(host.budget.residentBytes).to.equal(0);
    expect(q.pagedCount).to.equal(0);
  });

  it('drops an entry whose message cannot be read back, and delivers the rest', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    publish(q, 0, 100);
    host.source.commitAll();
    // Records of two paged-out messages vanish (the store layer logs this).
    const it = q.readyEntries();
    const pagedIds: number[] = [];
    for (let r = it.next(); r.done !== true; r = it.next()) if (r.value.message.body === null) pagedIds.push(r.value.message.storeId);
    host.source.records.delete(pagedIds[0]!);
    host.source.records.delete(pagedIds[5]!);
    const got = drain(host, q);
    expect(got).to.deep.equal(Array.from({ length: 100 }, (_, i) => `m${i}`).filter((b) => b !== 'm16' && b !== 'm21'));
    expect(q.messageCount).to.equal(0);
    expect(q.readyBytes).to.equal(0);
  });

  it('expires paged-out heads without reading them when there is no dead-letter exchange', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    // Recovered after a downtime in which the first 30 expired.
    q.recover(Array.from({ length: 50 }, (_, i) => new QueueEntry(storedStub(host, 100 + i, `m${i}`), i + 1, i < 30 ? 1 : 0)));
    q.expireHead();
    expect(q.messageCount).to.equal(20);
    // What is read is the read-ahead of the live entries that follow, never an expired one.
    expect(host.source.loads.flatMap((l) => l.ids).filter((id) => id < 130)).to.deep.equal([]);
    expect(host.settledIds).to.deep.equal(Array.from({ length: 30 }, (_, i) => 100 + i));
    expect(drain(host, q)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `m${i + 30}`));
  });

  it('reads expired paged-out heads back before dead-lettering them', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host, tableOf([['x-dead-letter-exchange', field.str('dlx')]]));
    q.recover(Array.from({ length: 10 }, (_, i) => new QueueEntry(storedStub(host, 100 + i, `m${i}`), i + 1, i < 3 ? 1 : 0)));
    q.expireHead();
    expect(host.deadLettered).to.deep.equal([]);
    expect(host.source.loads).to.have.length(1);
    host.source.completeLoad();
    expect(host.deadLettered.map((d) => [label(d.body), d.reason])).to.deep.equal([['m0', 'expired'], ['m1', 'expired'], ['m2', 'expired']]);
    expect(q.messageCount).to.equal(7);
  });

  it('drop-head takes a paged-out head at once without a dead-letter exchange, after reading it with one', () => {
    // An 8 KiB budget: a 2-message window; page-out stops at 7 KiB.
    for (const dlx of [false, true]) {
      const host = new FakeHost(8 * KIB);
      const args: Array<[string, ReturnType<typeof field.int>]> = [['x-max-length', field.int(40)]];
      if (dlx) args.push(['x-dead-letter-exchange', field.str('dlx')]);
      const q = makeQueue(host, tableOf(args));
      publish(q, 0, 40);
      host.source.commitAll();
      expect(residency(q)).to.equal('RR' + 'p'.repeat(33) + 'RRRRR');
      publish(q, 40, 43);
      if (dlx) {
        // The resident heads go at once; the paged-out one is over the limit until read back.
        expect(host.deadLettered.map((d) => label(d.body))).to.deep.equal(['m0', 'm1']);
        expect(q.messageCount).to.equal(41);
        while (host.source.loads.length > 0) host.source.completeLoad();
        expect(host.deadLettered.map((d) => label(d.body))).to.deep.equal(['m0', 'm1', 'm2']);
        expect(host.deadLettered.every((d) => d.reason === 'maxlen')).to.equal(true);
      } else {
        expect(host.source.loads.length + host.source.loadedIds.length, 'nothing read to drop').to.be.at.most(1);
        expect(host.settledIds).to.have.length(3);
      }
      expect(q.messageCount).to.equal(40);
      expect(drain(host, q)).to.deep.equal(Array.from({ length: 40 }, (_, i) => `m${i + 3}`));
    }
  });

  it('recovers stubs: everything before the first stub is resident, and stubs are read back in order', () => {
    const host = new FakeHost(LIMIT);
    const q = makeQueue(host);
    const entries: QueueEntry[] = [];
    for (let i = 0; i < 50; i++) {
      let m: Message;
      if (i < 10) {
        m = message(`m${i}`);
        m.storeId = 1000 + i;
        m.storeRefs = 1;
        host.budget.recovered(m.size);
      } else {
        m = storedStub(host, 1000 + i, `m${i}`);
      }
      entries.push(new QueueEntry(m, i + 1, 0));
    }
    q.recover(entries);
    expect(q.pagedCount).to.equal(40);
    expect(residency(q)).to.equal('R'.repeat(10) + 'p'.repeat(40));
    expect(drain(host, q)).to.deep.equal(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(host.source.loadedIds).to.have.length(40);
  });
});

/** A stored message known only by its entry, as recovery builds it; its record is in the fake store. */
function storedStub(host: FakeHost, id: number, body: string): Message {
  host.source.records.set(id, {
    exchange: '', routingKey: 'q', properties: new ContentProperties(encodeBasicPropertiesBuffer({ deliveryMode: 2 })),
    body: Buffer.from(body.padEnd(KIB, '.')),
  });
  const m = Message.paged(id, KIB, 0);
  m.storeRefs = 1;
  return m;
}
