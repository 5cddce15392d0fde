/**
 * The Store in memory (`--store memory`): the same contract as the LevelDB store, for tests and for
 * brokers that need no durability. Records are kept by reference (no encoding, no body copies). Writes
 * apply at once; commits are still reported asynchronously, once per event-loop turn, so callers see
 * the same ordering as with the disk store. The data lives in a MemoryStoreData object that a new
 * MemoryStore can reopen, which lets tests restart a broker in-process.
 */
import { KeyPrefix, bindingKey, entityKey } from './keys.js';
import {
  type BindingRecord, type CommitCallback, type CorruptVisitor, type EntryRecord, type ExchangeRecord, type MessageRecord,
  type QueueRecord, type RecordVisitor, type Store, StoreError, StoreErrorCode, type StoreStats,
} from './store.js';

/** What a memory store holds; survives the store's close() so a new MemoryStore can reopen it. */
export class MemoryStoreData {
  readonly exchanges = new Map<string, ExchangeRecord>();
  readonly queues = new Map<string, QueueRecord>();
  readonly bindings = new Map<string, BindingRecord>();
  readonly messages = new Map<number, MessageRecord>();
  /** Entries by queue id, then seq. */
  readonly entries = new Map<number, Map<number, EntryRecord>>();
  /** Held by an open MemoryStore (the in-memory counterpart of LevelDB's LOCK). */
  inUse = false;
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly location = ':memory:';
  readonly stats: StoreStats = { batches: 0, ops: 0, bytes: 0 };

  private tickOps = 0;
  private tickBytes = 0;
  private waiters: CommitCallback[] = [];
  private scheduled = false;
  private closed = false;

  constructor(readonly data: MemoryStoreData = new MemoryStoreData()) {
    if (data.inUse) throw new StoreError(StoreErrorCode.Locked, 'memory store data is in use by another Warren');
    data.inUse = true;
  }

  get backlogOps(): number {
    return this.tickOps;
  }

  get backlogBytes(): number {
    return this.tickBytes;
  }

  // ------------------------------------------------------------------ writes

  putExchange(r: ExchangeRecord): void {
    if (this.closed) return;
    this.data.exchanges.set(entityKey(KeyPrefix.Exchange, r.vhost, r.name).toString('latin1'), r);
    this.wrote(0);
  }

  deleteExchange(vhost: string, name: string): void {
    if (this.closed) return;
    this.data.exchanges.delete(entityKey(KeyPrefix.Exchange, vhost, name).toString('latin1'));
    this.wrote(0);
  }

  putQueue(r: QueueRecord): void {
    if (this.closed) return;
    this.data.queues.set(entityKey(KeyPrefix.Queue, r.vhost, r.name).toString('latin1'), r);
    this.wrote(0);
  }

  deleteQueue(vhost: string, name: string): void {
    if (this.closed) return;
    this.data.queues.delete(entityKey(KeyPrefix.Queue, vhost, name).toString('latin1'));
    this.wrote(0);
  }

  putBinding(r: BindingRecord): void {
    if (this.closed) return;
    this.data.bindings.set(bindingKey(r).toString('latin1'), r);
    this.wrote(0);
  }

  deleteBinding(r: BindingRecord): void {
    if (this.closed) return;
    this.data.bindings.delete(bindingKey(r).toString('latin1'));
    this.wrote(0);
  }

  addMessage(id: number, exchange: string, routingKey: string, properties: Buffer, body: Buffer): void {
    if (this.closed) return;
    this.data.messages.set(id, { id, exchange, routingKey, properties, body });
    this.wrote(properties.length + body.length);
  }

  deleteMessage(id: number): void {
    if (this.closed) return;
    this.data.messages.delete(id);
    this.wrote(0);
  }

  addEntry(queueId: number, seq: number, messageId: number, expiresAt: number, size: number, priority: number, shared: boolean): void {
    this.setEntry({ queueId, seq, messageId, delivered: false, shared, expiresAt, size, priority });
  }

  markDelivered(queueId: number, seq: number, messageId: number, expiresAt: number, size: number, priority: number, shared: boolean): void {
    this.setEntry({ queueId, seq, messageId, delivered: true, shared, expiresAt, size, priority });
  }

  deleteEntry(queueId: number, seq: number): void {
    if (this.closed) return;
    const q = this.data.entries.get(queueId);
    if (q !== undefined && q.delete(seq) && q.size === 0) this.data.entries.delete(queueId);
    this.wrote(0);
  }

  private setEntry(record: EntryRecord): void {
    if (this.closed) return;
    let q = this.data.entries.get(record.queueId);
    if (q === undefined) this.data.entries.set(record.queueId, (q = new Map()));
    q.set(record.seq, record);
    this.wrote(0);
  }

  private wrote(bytes: number): void {
    this.tickOps++;
    this.tickBytes += bytes;
    this.schedule();
  }

  // ------------------------------------------------------------------ commits

  afterCommit(callback: CommitCallback): void {
    this.waiters.push(callback);
    this.schedule();
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.afterCommit((err) => (err === null ? resolve() : reject(err)));
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.commitTick);
  }

  private readonly commitTick = (): void => {
    this.scheduled = false;
    if (this.tickOps > 0) {
      this.stats.batches++;
      this.stats.ops += this.tickOps;
      this.stats.bytes += this.tickBytes;
      this.tickOps = 0;
      this.tickBytes = 0;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const cb of waiters) {
      try {
        cb(null);
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
  };

  // ------------------------------------------------------------------ recovery reads

  // Records are listed first, then visited: a visitor may write (recovery deletes leftovers) or wait.

  async readExchanges(visit: RecordVisitor<ExchangeRecord>, _corrupt: CorruptVisitor): Promise<void> {
    await this.flush();
    await visitAll(sortedKeys(this.data.exchanges).map((k) => this.data.exchanges.get(k)!), visit);
  }

  async readQueues(visit: RecordVisitor<QueueRecord>, _corrupt: CorruptVisitor): Promise<void> {
    await this.flush();
    await visitAll(sortedKeys(this.data.queues).map((k) => this.data.queues.get(k)!), visit);
  }

  async readBindings(visit: RecordVisitor<BindingRecord>, _corrupt: CorruptVisitor): Promise<void> {
    await this.flush();
    await visitAll(sortedKeys(this.data.bindings).map((k) => this.data.bindings.get(k)!), visit);
  }

  async readMessages(visit: RecordVisitor<MessageRecord>, _corrupt: CorruptVisitor): Promise<void> {
    await this.flush();
    await visitAll(sortedNumbers(this.data.messages).map((id) => this.data.messages.get(id)!), visit);
  }

  async readMessageIds(visit: RecordVisitor<number>, _corrupt: CorruptVisitor): Promise<void> {
    await this.flush();
    await visitAll(sortedNumbers(this.data.messages), visit);
  }

  async readEntries(visit: RecordVisitor<EntryRecord>, _corrupt: CorruptVisitor): Promise<void> {
    await this.flush();
    const records: EntryRecord[] = [];
    for (const queueId of sortedNumbers(this.data.entries)) {
      const q = this.data.entries.get(queueId)!;
      for (const seq of sortedNumbers(q)) records.push(q.get(seq)!);
    }
    await visitAll(records, visit);
  }

  async loadMessages(ids: readonly number[], _corrupt?: CorruptVisitor): Promise<(MessageRecord | undefined)[]> {
    // Writes apply at once here, so this also sees uncommitted ones; the contract promises committed data only.
    await Promise.resolve();
    return ids.map((id) => this.data.messages.get(id));
  }

  async highestIds(): Promise<{ message: number; queue: number }> {
    await this.flush();
    let message = 0;
    for (const id of this.data.messages.keys()) if (id > message) message = id;
    let queue = 0;
    for (const id of this.data.entries.keys()) if (id > queue) queue = id;
    for (const r of this.data.queues.values()) if (r.id > queue) queue = r.id;
    return { message, queue };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.data.inUse = false;
  }
}

async function visitAll<R>(records: readonly R[], visit: RecordVisitor<R>): Promise<void> {
  for (const r of records) {
    const pending = visit(r);
    if (pending instanceof Promise) await pending;
  }
}

/** Keys in the order LevelDB would return them (bytewise over the same key schema). */
function sortedKeys(map: ReadonlyMap<string, unknown>): string[] {
  return [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function sortedNumbers(map: ReadonlyMap<number, unknown>): number[] {
  return [...map.keys()].sort((a, b) => a - b);
}
