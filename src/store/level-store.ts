/**
 * The Store on LevelDB (the `level` package, classic-level in Node): the default, in --data-dir.
 *
 * Group commit: every write made during one event-loop turn lands in a pending map and goes out as one
 * LevelDB write batch (`sync` per --fsync), started from setImmediate; while a batch is being written the next one
 * accumulates and starts the moment the first completes (one batch in flight, so batches are applied in
 * order). `afterCommit` callbacks ride with the batch that holds every op queued before them.
 *
 * The pending map is keyed by the record key, so a later op on the same key replaces an earlier one. A put
 * of a key that is new to the store ("fresh": a new message, a new entry) followed by its delete before the
 * batch goes out cancels out: a message published and acked within one turn costs no disk write at all
 * (RabbitMQ's message store skips such writes too).
 *
 * Crash safety: with sync=false, LevelDB appends each batch to its write-ahead log with write(2) before the
 * batch resolves, so a confirmed batch is in the OS page cache and survives the process being killed
 * (kill -9); --fsync adds an fsync per batch for power loss. Nothing depends on a graceful close.
 */
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import {
  KeyFormatError, KeyPrefix, bindingKey, decodeBindingKey, decodeEntityKey, decodeEntryKey, decodeMessageKey,
  entityKey, entryKey, messageKey, metaKey, prefixRange, recordKindOf,
} from './keys.js';
import {
  RecordFormatError, STORE_FORMAT, decodeBinding, decodeEntry, decodeExchange, decodeFormat, decodeMessage, decodeQueue,
  encodeBinding, encodeEntry, encodeExchange, encodeFormat, encodeMessage, encodeQueue,
} from './records.js';
import {
  type BindingRecord, type CommitCallback, type CorruptVisitor, type EntryRecord, type ExchangeRecord, type MessageRecord,
  type QueueRecord, type RecordVisitor, type Store, StoreError, StoreErrorCode, type StoreStats,
} from './store.js';

export interface LevelStoreOptions {
  /** fsync every batch (survives power loss). Default false: survives a process crash. */
  readonly fsync?: boolean;
  /** Told about a batch that failed to write (its afterCommit callbacks get the error too). */
  readonly onWriteError?: (error: Error) => void;
}

type LevelDb = Level<Buffer, Buffer>;

/** How many records one iterator step fetches during recovery. */
const READ_CHUNK = 1024;

/** One queued write. Mutated in place when a later op on the same key arrives (keeps its map slot). */
class PendingOp {
  constructor(
    public type: 'put' | 'del',
    readonly key: Buffer,
    public value: Buffer | undefined,
    /** The key exists neither on disk nor in the batch being written, so deleting it needs no write. */
    public fresh: boolean,
  ) {}

  get size(): number {
    return this.key.length + (this.value === undefined ? 0 : this.value.length);
  }
}

/** Open (creating if missing) the LevelDB store in `dir`. Throws StoreError; touches nothing if locked. */
export async function openLevelStore(dir: string, options: LevelStoreOptions = {}): Promise<LevelStore> {
  const holder = await lockHolder(dir);
  if (holder !== undefined) {
    throw new StoreError(StoreErrorCode.Locked, `data directory ${dir} is in use by another Warren (pid ${holder})`);
  }
  const db: LevelDb = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new StoreError(StoreErrorCode.Locked, `data directory ${dir} is in use by another Warren`, { cause: err });
    }
    throw new StoreError(StoreErrorCode.OpenFailed, `cannot open data directory ${dir}: ${cause?.message ?? (err as Error).message}`, { cause: err });
  }
  try {
    await checkFormat(db, dir);
  } catch (err) {
    await db.close();
    throw err;
  }
  return new LevelStore(db, dir, options);
}

/**
 * The pid holding LevelDB's LOCK in `dir`, if the kernel says one does (Linux: /proc/locks lists POSIX
 * locks by device and inode). LevelDB rotates its info LOG before it tries the lock, so a refused open
 * would still touch the directory; this check lets a second Warren leave it exactly as it found it.
 * Elsewhere, or when the device numbers do not match (overlay filesystems), LevelDB's own lock refuses.
 */
async function lockHolder(dir: string): Promise<number | undefined> {
  let lockFile: Stats;
  let locks: string;
  try {
    lockFile = await fs.stat(path.join(dir, 'LOCK'));
    locks = await fs.readFile('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const major = (lockFile.dev >> 8) & 0xfff;
  const minor = (lockFile.dev & 0xff) | ((lockFile.dev >> 12) & 0xfff00);
  const id = `${hex2(major)}:${hex2(minor)}:${lockFile.ino}`;
  for (const line of locks.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 16552 fe:00:2154701 0 EOF"; waiters are marked "->" and skipped.
    const f = line.trim().split(/\s+/);
    if (f[1] === 'POSIX' && f[5] === id) {
      const pid = Number(f[4]);
      return Number.isInteger(pid) && pid > 0 ? pid : 0;
    }
  }
  return undefined;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** A new directory gets the current format; an existing one must have it. */
async function checkFormat(db: LevelDb, dir: string): Promise<void> {
  const key = metaKey('format');
  const stored = await db.get(key);
  if (stored === undefined) {
    await db.put(key, encodeFormat(STORE_FORMAT), { sync: true });
    return;
  }
  let format: number;
  try {
    format = decodeFormat(stored);
  } catch (err) {
    throw new StoreError(StoreErrorCode.Format, `data directory ${dir}: unreadable format record (${(err as Error).message})`);
  }
  if (format !== STORE_FORMAT) {
    throw new StoreError(StoreErrorCode.Format, `data directory ${dir} has store format ${format}; this Warren reads format ${STORE_FORMAT}`);
  }
}

export class LevelStore implements Store {
  readonly kind = 'level' as const;
  readonly stats: StoreStats = { batches: 0, ops: 0, bytes: 0 };

  private readonly batchOptions: { sync: boolean };
  private readonly onWriteError: ((error: Error) => void) | undefined;
  /** Ops for the next batch, by key (latin1 string of the key bytes). */
  private queued = new Map<string, PendingOp>();
  private queuedBytes = 0;
  private queuedWaiters: CommitCallback[] = [];
  private scheduled = false;
  private writing = false;
  private writingOps = 0;
  private writingBytes = 0;
  private writingWaiters: CommitCallback[] = [];
  /** Set once close() has written everything: later writes are dropped. */
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: LevelDb,
    readonly location: string,
    options: LevelStoreOptions = {},
  ) {
    this.batchOptions = { sync: options.fsync === true };
    this.onWriteError = options.onWriteError;
  }

  get backlogOps(): number {
    return this.queued.size + this.writingOps;
  }

  get backlogBytes(): number {
    return this.queuedBytes + this.writingBytes;
  }

  // ------------------------------------------------------------------ writes

  putExchange(r: ExchangeRecord): void {
    this.put(entityKey(KeyPrefix.Exchange, r.vhost, r.name), encodeExchange(r), false);
  }

  deleteExchange(vhost: string, name: string): void {
    this.del(entityKey(KeyPrefix.Exchange, vhost, name));
  }

  putQueue(r: QueueRecord): void {
    this.put(entityKey(KeyPrefix.Queue, r.vhost, r.name), encodeQueue(r), false);
  }

  deleteQueue(vhost: string, name: string): void {
    this.del(entityKey(KeyPrefix.Queue, vhost, name));
  }

  putBinding(r: BindingRecord): void {
    this.put(bindingKey(r), encodeBinding(), false);
  }

  deleteBinding(r: BindingRecord): void {
    this.del(bindingKey(r));
  }

  addMessage(id: number, exchange: string, routingKey: string, properties: Buffer, body: Buffer): void {
    this.put(messageKey(id), encodeMessage(exchange, routingKey, properties, body), true);
  }

  deleteMessage(id: number): void {
    this.del(messageKey(id));
  }

  addEntry(queueId: number, seq: number, messageId: number, expiresAt: number, size: number, priority: number, shared: boolean): void {
    this.put(entryKey(queueId, seq), encodeEntry(messageId, false, expiresAt, size, priority, shared), true);
  }

  markDelivered(queueId: number, seq: number, messageId: number, expiresAt: number, size: number, priority: number, shared: boolean): void {
    this.put(entryKey(queueId, seq), encodeEntry(messageId, true, expiresAt, size, priority, shared), false);
  }

  deleteEntry(queueId: number, seq: number): void {
    this.del(entryKey(queueId, seq));
  }

  private put(key: Buffer, value: Buffer, fresh: boolean): void {
    if (this.closed) return;
    const k = key.toString('latin1');
    const prev = this.queued.get(k);
    if (prev === undefined) {
      this.queued.set(k, new PendingOp('put', key, value, fresh));
    } else {
      this.queuedBytes -= prev.size;
      // Overwriting a queued fresh put keeps the key fresh; overwriting a queued delete means the key
      // may exist on disk, so a later delete must be written.
      prev.fresh = prev.type === 'put' && prev.fresh;
      prev.type = 'put';
      prev.value = value;
    }
    this.queuedBytes += key.length + value.length;
    this.schedule();
  }

  private del(key: Buffer): void {
    if (this.closed) return;
    const k = key.toString('latin1');
    const prev = this.queued.get(k);
    if (prev === undefined) {
      this.queued.set(k, new PendingOp('del', key, undefined, false));
      this.queuedBytes += key.length;
      this.schedule();
      return;
    }
    this.queuedBytes -= prev.size;
    if (prev.type === 'put' && prev.fresh) {
      // Never reached the disk: forget both.
      this.queued.delete(k);
      return;
    }
    prev.type = 'del';
    prev.value = undefined;
    prev.fresh = false;
    this.queuedBytes += key.length;
  }

  // ------------------------------------------------------------------ group commit

  afterCommit(callback: CommitCallback): void {
    if (this.closed) {
      setImmediate(callback, null);
    } else if (this.writing && this.queued.size === 0 && this.queuedWaiters.length === 0) {
      // Nothing queued: everything before this call is in the batch being written.
      this.writingWaiters.push(callback);
    } else {
      // Rides with the next batch (callbacks already waiting for it keep their place in line).
      this.queuedWaiters.push(callback);
      this.schedule();
    }
  }

  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.afterCommit((err) => (err === null ? resolve() : reject(err)));
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(this.startBatch);
  }

  /** Take everything queued as one batch. Runs from setImmediate, or right after the previous batch. */
  private readonly startBatch = (): void => {
    this.scheduled = false;
    if (this.writing) return;
    const waiters = this.queuedWaiters;
    if (this.queued.size === 0) {
      // Everything cancelled out (or only waiters): nothing to write.
      if (waiters.length > 0) {
        this.queuedWaiters = [];
        runCallbacks(waiters, null);
      }
      return;
    }
    this.writingOps = this.queued.size;
    this.writingBytes = this.queuedBytes;
    this.writingWaiters = waiters;
    this.queuedWaiters = [];
    this.writing = true;
    let written: Promise<void>;
    try {
      written = this.writeQueued();
    } catch (err) {
      written = Promise.reject(err);
    }
    this.queued.clear();
    this.queuedBytes = 0;
    written.then(this.batchWritten, this.batchFailed);
  };

  /**
   * A chained batch rather than `db.batch(array)`: the array form clones and re-validates every op in
   * JavaScript (abstract-level's #arrayBatch), which measured 3x slower for small messages.
   */
  private writeQueued(): Promise<void> {
    const batch = this.db.batch();
    try {
      for (const op of this.queued.values()) {
        if (op.type === 'put') batch.put(op.key, op.value!);
        else batch.del(op.key);
      }
    } catch (err) {
      batch.close().catch(() => undefined);
      throw err;
    }
    return batch.write(this.batchOptions);
  }

  private readonly batchWritten = (): void => {
    this.stats.batches++;
    this.stats.ops += this.writingOps;
    this.stats.bytes += this.writingBytes;
    this.batchDone(null);
  };

  private readonly batchFailed = (err: unknown): void => {
    const error = err instanceof Error ? err : new Error(String(err));
    this.onWriteError?.(error);
    this.batchDone(error);
  };

  private batchDone(error: Error | null): void {
    const waiters = this.writingWaiters;
    this.writingWaiters = [];
    this.writing = false;
    this.writingOps = 0;
    this.writingBytes = 0;
    // Pipelining: what accumulated during the write goes out now, before the callbacks run.
    if (this.queued.size > 0 || this.queuedWaiters.length > 0) this.startBatch();
    runCallbacks(waiters, error);
  }

  // ------------------------------------------------------------------ recovery reads

  async readExchanges(visit: RecordVisitor<ExchangeRecord>, corrupt: CorruptVisitor): Promise<void> {
    await this.scan(KeyPrefix.Exchange, (key, value) => {
      const { vhost, name } = decodeEntityKey(key);
      return { vhost, name, ...decodeExchange(value) };
    }, visit, corrupt);
  }

  async readQueues(visit: RecordVisitor<QueueRecord>, corrupt: CorruptVisitor): Promise<void> {
    await this.scan(KeyPrefix.Queue, (key, value) => {
      const { vhost, name } = decodeEntityKey(key);
      return { vhost, name, ...decodeQueue(value) };
    }, visit, corrupt);
  }

  async readBindings(visit: RecordVisitor<BindingRecord>, corrupt: CorruptVisitor): Promise<void> {
    await this.scan(KeyPrefix.Binding, (key, value) => {
      decodeBinding(value);
      return decodeBindingKey(key);
    }, visit, corrupt);
  }

  async readMessages(visit: RecordVisitor<MessageRecord>, corrupt: CorruptVisitor): Promise<void> {
    await this.scan(KeyPrefix.Message, (key, value) => ({ id: decodeMessageKey(key), ...decodeMessage(value) }), visit, corrupt);
  }

  async readEntries(visit: RecordVisitor<EntryRecord>, corrupt: CorruptVisitor): Promise<void> {
    await this.scan(KeyPrefix.Entry, entryRecord, visit, corrupt);
  }

  async readMessageIds(visit: RecordVisitor<number>, corrupt: CorruptVisitor): Promise<void> {
    await this.flush();
    // Keys only: LevelDB still reads the blocks, but no value is copied into JavaScript.
    const it = this.db.keys(prefixRange(KeyPrefix.Message));
    try {
      for (;;) {
        const chunk = await it.nextv(READ_CHUNK);
        if (chunk.length === 0) break;
        for (const key of chunk) {
          let id: number;
          try {
            id = decodeMessageKey(key);
          } catch (err) {
            if (!(err instanceof KeyFormatError)) throw err;
            corrupt({ kind: 'message', key, reason: err.message });
            continue;
          }
          const pending = visit(id);
          if (pending instanceof Promise) await pending;
        }
      }
    } finally {
      await it.close();
    }
  }

  /** One LevelDB multi-get: the reads of a read-ahead batch go to the disk together. */
  async loadMessages(ids: readonly number[], corrupt?: CorruptVisitor): Promise<(MessageRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const keys = ids.map(messageKey);
    const values = await this.db.getMany(keys);
    const out: (MessageRecord | undefined)[] = [];
    for (let i = 0; i < ids.length; i++) {
      const value = values[i];
      let record: MessageRecord | undefined;
      if (value !== undefined) {
        try {
          record = { id: ids[i]!, ...decodeMessage(value) };
        } catch (err) {
          if (!(err instanceof RecordFormatError)) throw err;
          corrupt?.({ kind: 'message', key: keys[i]!, reason: err.message });
        }
      }
      out.push(record);
    }
    return out;
  }

  async highestIds(): Promise<{ message: number; queue: number }> {
    await this.flush();
    let message = 0;
    for await (const key of this.db.keys({ ...prefixRange(KeyPrefix.Message), reverse: true })) {
      if (key.length === 9) {
        message = decodeMessageKey(key);
        break;
      }
    }
    let queue = 0;
    // Entries may outlive their queue record (a queue deleted while messages were unacked, then a
    // crash): a new queue must not take such an id before startup removes them.
    for await (const key of this.db.keys({ ...prefixRange(KeyPrefix.Entry), reverse: true })) {
      if (key.length === 17) {
        queue = decodeEntryKey(key).queueId;
        break;
      }
    }
    await this.readQueues((r) => {
      if (r.id > queue) queue = r.id;
    }, ignoreCorrupt);
    return { message, queue };
  }

  /** Visit every record of one kind in key order; a record that fails to decode goes to `corrupt`. */
  private async scan<R>(
    prefix: KeyPrefix,
    decode: (key: Buffer, value: Buffer) => R,
    visit: RecordVisitor<R>,
    corrupt: CorruptVisitor,
  ): Promise<void> {
    await this.flush();
    const it = this.db.iterator(prefixRange(prefix));
    try {
      for (;;) {
        const chunk = await it.nextv(READ_CHUNK);
        if (chunk.length === 0) break;
        for (const [key, value] of chunk) {
          let record: R;
          try {
            record = decode(key, value);
          } catch (err) {
            if (!(err instanceof RecordFormatError) && !(err instanceof KeyFormatError)) throw err;
            corrupt({ kind: recordKindOf(key) ?? 'meta', key, reason: err.message });
            continue;
          }
          const pending = visit(record);
          if (pending instanceof Promise) await pending;
        }
      }
    } finally {
      await it.close();
    }
  }

  // ------------------------------------------------------------------ close

  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    // Writes may keep arriving while the last batches go out (connections closing): drain until quiet.
    while (this.queued.size > 0 || this.writing || this.scheduled) {
      await this.flush().catch(() => undefined);
    }
    this.closed = true;
    await this.db.close();
  }
}

/**
 * One object literal per entry: recovery visits every entry of every queue, and object spread of the key
 * and value parts measured 3x slower (a million entries: seconds of startup).
 */
function entryRecord(key: Buffer, value: Buffer): EntryRecord {
  const { queueId, seq } = decodeEntryKey(key);
  const v = decodeEntry(value);
  return {
    queueId, seq, messageId: v.messageId, delivered: v.delivered, shared: v.shared, expiresAt: v.expiresAt, size: v.size, priority: v.priority,
  };
}

function ignoreCorrupt(): void {
  // highestIds only needs the ids that decode; recovery reports the rest.
}

/** A callback that throws is a bug in its owner: report it without leaving the store half-updated. */
function runCallbacks(callbacks: readonly CommitCallback[], error: Error | null): void {
  for (const cb of callbacks) {
    try {
      cb(error);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}
