/**
 * The Store contract: durable topology and persistent messages, written asynchronously and grouped, read
 * back only at startup. Two implementations keep it: LevelDB on disk (level-store.ts, the default) and
 * memory (memory-store.ts, `--store memory`); test/unit/store/store-contract.ts is the suite both pass.
 *
 * Writes are commands queued in call order and applied in that order; none returns a promise (they are
 * on the publish and ack paths). `afterCommit` is how a caller learns its writes are durable: it is the
 * only signal a publisher confirm or tx.commit-ok may wait for. Reads are for recovery: they first wait
 * for every queued write, then visit records in key order (entries: by queue id, then seq). One read
 * serves running queues too: loadMessages, which reads paged-out messages back by id.
 */
import type { FieldTable } from '../types/field-table.js';
import type { RecordKind } from './keys.js';

export interface ExchangeRecord {
  readonly vhost: string;
  readonly name: string;
  readonly type: string;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
}

export interface QueueRecord {
  readonly vhost: string;
  readonly name: string;
  /** Store-wide id of this incarnation of the queue: entry keys use it, and it is never reused. */
  readonly id: number;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
}

export interface BindingRecord {
  readonly vhost: string;
  readonly source: string;
  readonly destinationKind: 'queue' | 'exchange';
  readonly destination: string;
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

export interface MessageRecord {
  readonly id: number;
  readonly exchange: string;
  readonly routingKey: string;
  /** The content-header property list as received, re-emitted verbatim on delivery. */
  readonly properties: Buffer;
  readonly body: Buffer;
}

export interface EntryRecord {
  readonly queueId: number;
  readonly seq: number;
  readonly messageId: number;
  /** The entry had been delivered (and not acked) at least once: it comes back with redelivered set. */
  readonly delivered: boolean;
  /** The message was routed to more than one queue when published. */
  readonly shared: boolean;
  /** Absolute expiry in ms since the epoch, 0 for none. */
  readonly expiresAt: number;
  /** The message's body size in bytes (recovery holds a paged-out message without reading it). */
  readonly size: number;
  /** The message's priority property (0 when absent). */
  readonly priority: number;
}

/** A record that could not be decoded: recovery logs it with its key, skips it and counts it. */
export interface CorruptRecord {
  readonly kind: RecordKind;
  readonly key: Buffer;
  readonly reason: string;
}

/** `error` is null when every write queued before the afterCommit call is durable. */
export type CommitCallback = (error: Error | null) => void;

export interface StoreStats {
  /** Batches written (level) or ticks applied (memory). */
  batches: number;
  /** Put and delete operations that reached the backend; cancelled pairs never do. */
  ops: number;
  /** Key and value bytes that reached the backend (memory: message property and body bytes). */
  bytes: number;
}

/** A visitor may return a promise: the read waits for it before visiting the next record. Other results are ignored. */
export interface RecordVisitor<R> {
  (record: R): unknown;
}
export type CorruptVisitor = (record: CorruptRecord) => void;

export interface Store {
  readonly kind: 'level' | 'memory';
  /** The data directory, or ':memory:'. */
  readonly location: string;

  // ---- topology (upserts; deleting what does not exist is a no-op)
  putExchange(record: ExchangeRecord): void;
  deleteExchange(vhost: string, name: string): void;
  putQueue(record: QueueRecord): void;
  deleteQueue(vhost: string, name: string): void;
  putBinding(record: BindingRecord): void;
  deleteBinding(record: BindingRecord): void;

  // ---- messages (hot path: plain arguments, no record objects)
  /** A new message; `id` was never used before (ids only grow). */
  addMessage(id: number, exchange: string, routingKey: string, properties: Buffer, body: Buffer): void;
  deleteMessage(id: number): void;
  /**
   * A new entry; (queueId, seq) was never used before. `size` (body bytes) and `priority` describe the
   * message; `shared`: it was routed to more than one queue.
   */
  addEntry(queueId: number, seq: number, messageId: number, expiresAt: number, size: number, priority: number, shared: boolean): void;
  /** Rewrite an existing entry with its delivered flag set. */
  markDelivered(queueId: number, seq: number, messageId: number, expiresAt: number, size: number, priority: number, shared: boolean): void;
  deleteEntry(queueId: number, seq: number): void;

  // ---- durability
  /** Run `callback` once every write queued before this call is durable (never synchronously). */
  afterCommit(callback: CommitCallback): void;
  /** Resolves when every write queued so far is durable; rejects if that batch failed. */
  flush(): Promise<void>;
  /** Operations queued or being written: the server pauses publishers while this is high. */
  readonly backlogOps: number;
  /** Bytes queued or being written. */
  readonly backlogBytes: number;
  readonly stats: Readonly<StoreStats>;

  // ---- recovery reads, in key order
  readExchanges(visit: RecordVisitor<ExchangeRecord>, corrupt: CorruptVisitor): Promise<void>;
  readQueues(visit: RecordVisitor<QueueRecord>, corrupt: CorruptVisitor): Promise<void>;
  readBindings(visit: RecordVisitor<BindingRecord>, corrupt: CorruptVisitor): Promise<void>;
  /** Messages by ascending id. */
  readMessages(visit: RecordVisitor<MessageRecord>, corrupt: CorruptVisitor): Promise<void>;
  /** Every entry of every queue, by queue id then seq (FIFO order). */
  readEntries(visit: RecordVisitor<EntryRecord>, corrupt: CorruptVisitor): Promise<void>;
  /** The ids of every message record, ascending, without reading their values (orphan cleanup). */
  readMessageIds(visit: RecordVisitor<number>, corrupt: CorruptVisitor): Promise<void>;
  /** The highest message id and queue id in use (also by records that fail to decode), 0 if none. */
  highestIds(): Promise<{ message: number; queue: number }>;

  // ---- paging
  /**
   * Read messages by id, in the order asked: `undefined` for an id with no record, or with one that
   * cannot be decoded (reported to `corrupt`). Reads committed data only: ask for messages whose writes
   * an afterCommit callback (or flush) has confirmed. Does not wait for queued writes.
   */
  loadMessages(ids: readonly number[], corrupt?: CorruptVisitor): Promise<(MessageRecord | undefined)[]>;

  /** Write everything queued, then release the backend. Writes after close are dropped. Idempotent. */
  close(): Promise<void>;
}

export const StoreErrorCode = {
  /** Another running Warren holds the data directory (LevelDB's LOCK). */
  Locked: 'WARREN_STORE_LOCKED',
  /** The directory could not be opened (permissions, not a directory, LevelDB corruption). */
  OpenFailed: 'WARREN_STORE_OPEN_FAILED',
  /** The directory was written with a store format this Warren does not read. */
  Format: 'WARREN_STORE_FORMAT',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** A store that cannot be opened: the CLI prints the message and exits with `exitCode`. */
export class StoreError extends Error {
  readonly exitCode = 1;

  constructor(readonly code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}
