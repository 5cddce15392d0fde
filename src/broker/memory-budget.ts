/**
 * The memory budget for message bodies: how many bytes of stored messages (persistent, in durable
 * queues) may stay in memory. Past it, queues page bodies out (they stay on disk) and read them back in
 * order ahead of delivery: RabbitMQ's lazy queues and classic queues v2 keep long queues on disk the
 * same way. Only the LevelDB store pages; the memory store holds every message in memory anyway.
 *
 * What is counted: the body bytes of every resident message that has a store record (Message.storeId
 * set), wherever it is: ready, unacked, in a fan-out. What can be paged out: ready messages of durable
 * FIFO queues beyond their read-ahead window, held by that queue alone (QueuePager.pageOut). So resident
 * bytes stay within the budget plus, per queue, its read-ahead window, plus whatever is unacked, routed
 * to several queues, or in a priority queue (x-max-priority: those stay in memory). What it costs per
 * paged-out message is what stays: its Message stub and QueueEntry, about 170 bytes (64-bit V8).
 *
 * Paging out happens from an afterCommit callback, and only for entries queued before it was requested,
 * so every record it relies on is on disk: a page-in reads committed data only.
 */
import type { Message, MessageProperties } from './message.js';

/** A stored message's content as read back. */
export interface StoredContent {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: MessageProperties;
  readonly body: Buffer;
}

/** What paging needs from the store layer (implemented by Persistence). */
export interface PageSource {
  /** Run `callback` once every write made so far is durable. */
  afterCommit(callback: (error: Error | null) => void): void;
  /**
   * Read stored messages back by store id, in order; `undefined` for one whose record is missing or
   * unreadable (the source logs it). Calls `done` once, never synchronously.
   */
  loadContent(ids: readonly number[], done: (error: Error | null, content: readonly (StoredContent | undefined)[]) => void): void;
}

/** A queue that can page messages out (Queue implements it). */
export interface Pageable {
  readonly deleted: boolean;
  /** Remember the newest entry now queued: entries up to it are on disk once the next commit is. */
  markCommitPoint(): void;
  /**
   * Page out eligible entries appended since the last call, up to the commit point, until the budget is
   * back under its target. Returns true when nothing is left to scan (the queue leaves the watch list).
   */
  pageOut(budget: MemoryBudget): boolean;
}

/** Default memory budget (BrokerConfig.memoryBudget): 256 MiB of message bodies. */
export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;

/** Read-ahead window: at most this many entries at a queue's head stay (or are read back) in memory. */
export const READ_AHEAD_ENTRIES = 1024;
/** ... and at most this many bytes (or a quarter of the budget, if smaller). */
export const READ_AHEAD_BYTES = 4 * 1024 * 1024;

export class MemoryBudget {
  /** Body bytes of resident stored messages. */
  residentBytes = 0;
  /** Messages paged out and read back since start (statistics, tests). */
  pagedOutCount = 0;
  pagedInCount = 0;
  /** Read-ahead window of a queue, in bytes. */
  readonly windowBytes: number;
  /** Page-out stops once resident bytes are this low (hysteresis: not a pass per message). */
  private readonly target: number;
  /** Queues with entries appended since their last page-out scan. */
  private readonly watched = new Set<Pageable>();
  private scheduled = false;

  constructor(
    /** Bytes; 0 or less pages out everything beyond the read-ahead windows. */
    readonly limit: number,
    private readonly source: PageSource,
  ) {
    this.windowBytes = Math.max(1, Math.min(READ_AHEAD_BYTES, Math.floor(limit / 4)));
    this.target = limit - Math.floor(limit / 8);
  }

  get overBudget(): boolean {
    return this.residentBytes > this.limit;
  }

  /** Page-out may stop. */
  get underTarget(): boolean {
    return this.residentBytes <= this.target;
  }

  /** A stored message became resident (written, or recovered with its content). */
  add(bytes: number): void {
    this.residentBytes += bytes;
    if (this.residentBytes > this.limit && !this.scheduled) this.schedule();
  }

  /** A resident stored message left memory for good (its record was deleted). */
  remove(bytes: number): void {
    this.residentBytes -= bytes;
  }

  /** The queue appended stored entries: scan them at the next page-out. */
  watch(queue: Pageable): void {
    this.watched.add(queue);
    if (this.residentBytes > this.limit && !this.scheduled) this.schedule();
  }

  /** Called by QueuePager.pageOut for each message it pages out. */
  pageOut(message: Message): void {
    message.pageOut();
    this.residentBytes -= message.size;
    this.pagedOutCount++;
  }

  /**
   * Read paged-out messages back (one batch, in order). A message settled meanwhile (store id reset) is
   * left out; one the store cannot return stays paged out, for the queue to drop. `done` runs once,
   * asynchronously; `error` means nothing was read (the store failed).
   */
  load(messages: readonly Message[], done: (error: Error | null) => void): void {
    const ids = messages.map((m) => m.storeId);
    this.source.loadContent(ids, (error, content) => {
      if (error === null) {
        for (let i = 0; i < messages.length; i++) {
          const m = messages[i]!;
          const c = content[i];
          if (c === undefined || m.body !== null || m.storeId === 0 || m.storeId !== ids[i]) continue;
          m.pageIn(c.exchange, c.routingKey, c.properties, c.body);
          this.residentBytes += m.size;
          this.pagedInCount++;
        }
      }
      done(error);
    });
  }

  /** Count a message recovered with its content (no page-out scheduled: recovery chose what fits). */
  recovered(bytes: number): void {
    this.residentBytes += bytes;
  }

  private schedule(): void {
    this.scheduled = true;
    for (const q of this.watched) q.markCommitPoint();
    this.source.afterCommit(this.run);
  }

  private readonly run = (error: Error | null): void => {
    this.scheduled = false;
    // A failed batch: what it held may not be on disk. The next write brings the next attempt.
    if (error !== null) return;
    let unfinished = false;
    for (const q of this.watched) {
      if (this.underTarget) return;
      if (q.deleted || q.pageOut(this)) this.watched.delete(q);
      else unfinished = true;
    }
    // Entries queued after the commit point are left for a pass after the next commit.
    if (unfinished && this.overBudget) this.schedule();
  };
}
