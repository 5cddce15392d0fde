/**
 * A queue: ready messages in publish order, the consumers that take them, and the policies of its
 * arguments (TTL, length limits, expiry, dead-lettering). Delivery is synchronous: enqueue hands a
 * message straight to a consumer with credit, so the publish → deliver path allocates nothing but the
 * queue entry.
 *
 * Paging (memory-budget.ts). A durable FIFO queue may hold far more stored messages than the memory
 * budget allows: past it, entries beyond the read-ahead window at the head have their message paged out
 * (body and properties dropped; the store has them), and are read back in order, one batch in flight,
 * whenever the resident entries at the head fall below half the window. Delivery and basic.get stop at
 * a paged-out head until it is back, so whatever delivers, fetches or dead-letters a message sees it
 * resident. Expiry and drop-head take a paged-out head directly when there is no dead-letter exchange
 * (settling needs only the store id) and read it back first otherwise. Not paged: messages routed to
 * more than one queue (another queue or its consumers may hold them), transient ones, and every message
 * of a priority queue (x-max-priority: its order is not the store order; the queue stays in memory).
 */
import type { FieldTable } from '../types/field-table.js';
import type { Binding, BindingDestination } from './binding.js';
import type { ConnectionOwner, Consumer } from './consumer.js';
import type { MemoryBudget } from './memory-budget.js';
import { type Message, QueueEntry } from './message.js';
import type { QueueArguments } from './queue-arguments.js';
import { type PagerOwner, QueuePager } from './queue-pager.js';
import { FifoReadyList, type ReadyList, createReadyList } from './ready-list.js';

export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** Queue.get's answer when the head is paged out: wait with whenHeadReadable(), then ask again. */
export const HEAD_PAGED = 'paged';


/** What a queue needs from the virtual host that holds it. */
export interface QueueHost {
  readonly name: string;
  /** Remove the queue (auto-delete after the last consumer, x-expires). */
  expireQueue(queue: Queue): void;
  /** Republish a dead message to the queue's dead-letter exchange. */
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void;
  /** The entry has left the queue for good (acked, dropped, expired): release its stored copy. */
  settled(queue: Queue, entry: QueueEntry): void;
  /** The entry entered the queue: write it to the store if the queue is durable and it is persistent. */
  enqueued(queue: Queue, entry: QueueEntry): void;
  /** First delivery to a consumer that must ack: recorded so a restart marks it redelivered. */
  delivered(queue: Queue, entry: QueueEntry): void;
  /** The memory budget when stored messages may be paged out (LevelDB store), else null. */
  readonly budget: MemoryBudget | null;
  /** Ready, unacked or consumer counts may have changed (embedding API's waitFor; a null check when unobserved). */
  queueChanged?(queue: Queue): void;
}

export interface QueueOptions {
  readonly durable: boolean;
  readonly exclusiveOwner: ConnectionOwner | null;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  readonly policy: QueueArguments;
}

export class Queue implements BindingDestination, PagerOwner {
  readonly kind = 'queue' as const;
  /** Publish epoch in which this queue was last routed to; de-duplicates multi-path routes. */
  routeEpoch = 0;
  readonly durable: boolean;
  readonly exclusiveOwner: ConnectionOwner | null;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
  readonly policy: QueueArguments;
  /** Bindings in which this queue is the destination, so deleting it can remove them. */
  readonly bindings = new Set<Binding>();
  deleted = false;

  private readonly ready: ReadyList;
  private readyBytesTotal = 0;
  private unacked = 0;
  private nextSeq = 1;
  private readonly consumerList: Consumer[] = [];
  private roundRobin = 0;
  private hadConsumer = false;
  private ttlTimer: NodeJS.Timeout | undefined;
  private ttlTimerAt = 0;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Re-entrancy guard: delivery can ack/requeue synchronously (no-ack consumers, dead-letter cycles). */
  private delivering = false;

  /** Paging (see the header) for a durable FIFO queue, else null. */
  private readonly pager: QueuePager | null;

  constructor(
    readonly host: QueueHost,
    readonly name: string,
    options: QueueOptions,
  ) {
    this.durable = options.durable;
    this.exclusiveOwner = options.exclusiveOwner;
    this.autoDelete = options.autoDelete;
    this.arguments = options.arguments;
    this.policy = options.policy;
    if (options.durable && options.policy.maxPriority === undefined) {
      const list = new FifoReadyList();
      this.ready = list;
      this.pager = new QueuePager(this, list);
    } else {
      this.ready = createReadyList(options.policy.maxPriority);
      this.pager = null;
    }
    this.touch();
  }

  get messageCount(): number {
    return this.ready.length;
  }

  get readyBytes(): number {
    return this.readyBytesTotal;
  }

  get unackedCount(): number {
    return this.unacked;
  }

  get consumerCount(): number {
    return this.consumerList.length;
  }

  get consumers(): readonly Consumer[] {
    return this.consumerList;
  }

  /** Whether this queue pages messages out past the memory budget (durable, no x-max-priority). */
  get pages(): boolean {
    return this.pager !== null;
  }

  /** Ready messages currently paged out (statistics, tests). */
  get pagedCount(): number {
    return this.pager === null ? 0 : this.pager.pagedEntries;
  }

  /** PagerOwner: seq of the newest entry taken. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** PagerOwner: the memory budget, when messages may be paged out. */
  get budget(): MemoryBudget | null {
    return this.host.budget;
  }

  describe(): string {
    return `queue '${this.name}' in vhost '${this.host.name}'`;
  }

  /**
   * Accept a routed message. Returns false when the queue refuses it (x-overflow reject-publish at
   * x-max-length), which the publisher sees as a nack in confirm mode.
   */
  enqueue(message: Message): boolean {
    const p = this.policy;
    if (p.overflow !== 'drop-head' && this.isFullFor(message.size)) {
      if (p.overflow === 'reject-publish-dlx') this.host.deadLetter(this, message, 'maxlen');
      return false;
    }
    const entry = new QueueEntry(message, this.nextSeq++, this.expiryFor(message));
    this.host.enqueued(this, entry);
    this.ready.push(entry);
    this.readyBytesTotal += message.size;
    if (message.storeId !== 0 && this.pager !== null) this.pager.appended();
    if (p.maxLength !== undefined || p.maxLengthBytes !== undefined) this.dropHeadOverLimit();
    this.deliverAvailable();
    if (entry.expiresAt !== 0 && this.ready.length > 0) this.expireHead();
    this.host.queueChanged?.(this);
    return true;
  }

  /** Deliver ready messages to consumers with credit, round-robin (by priority when x-priority is used). */
  deliverAvailable(): void {
    if (this.delivering || this.consumerList.length === 0) return;
    this.delivering = true;
    try {
      const now = this.hasTtl() ? Date.now() : 0;
      while (this.ready.length > 0) {
        if (this.pager !== null && this.pager.pagedEntries !== 0 && this.ready.peek()!.message.body === null) {
          this.pager.readAhead();
          break;
        }
        const consumer = this.nextConsumer();
        if (consumer === undefined) break;
        const entry = this.ready.shift()!;
        this.shifted(entry);
        if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
          this.drop(entry, 'expired');
          continue;
        }
        if (consumer.noAck) this.host.settled(this, entry);
        else this.takeForAck(entry);
        consumer.deliver(this, entry);
      }
    } finally {
      this.delivering = false;
    }
    this.host.queueChanged?.(this);
  }

  /**
   * basic.get: the next live message, counted as unacked unless noAck; HEAD_PAGED when the head is
   * paged out (being read back: see whenHeadReadable).
   */
  get(noAck: boolean): QueueEntry | undefined | typeof HEAD_PAGED {
    this.touch();
    const now = this.hasTtl() ? Date.now() : 0;
    for (;;) {
      const entry = this.ready.peek();
      if (entry === undefined) return undefined;
      if (entry.message.body === null) {
        this.pager?.readAhead();
        return HEAD_PAGED;
      }
      this.ready.shift();
      this.shifted(entry);
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
        this.drop(entry, 'expired');
        continue;
      }
      if (noAck) this.host.settled(this, entry);
      else this.takeForAck(entry);
      this.host.queueChanged?.(this);
      return entry;
    }
  }

  /** An entry goes out to a consumer that must ack it. */
  private takeForAck(entry: QueueEntry): void {
    this.unacked++;
    if (++entry.deliveries === 1 && this.durable) this.host.delivered(this, entry);
  }

  /**
   * Recovery: entries read back from the store, in seq order, with `redelivered` set for those that had
   * been delivered. Nothing is written back, delivered, expired or trimmed here; the caller runs
   * expireHead() once every queue has its entries.
   */
  recover(entries: readonly QueueEntry[]): void {
    for (const entry of entries) {
      // Paged-out stubs (only a queue that pages gets them): everything before the first is resident.
      if (entry.message.body === null) this.pager?.recoveredStub(this.ready.length);
      this.ready.push(entry);
      this.readyBytesTotal += entry.message.size;
      if (entry.expiresAt !== 0) this.anyMessageTtl = true;
    }
    const last = entries[entries.length - 1];
    if (last !== undefined && last.seq >= this.nextSeq) this.nextSeq = last.seq + 1;
    this.pager?.recovered(this.ready.length);
  }

  /** A delivered entry was acknowledged. */
  ack(entry: QueueEntry): void {
    this.unacked--;
    this.host.settled(this, entry);
    this.afterSettle();
  }

  /** A delivered entry was rejected without requeue: dead-letter it if configured, else drop it. */
  reject(entry: QueueEntry): void {
    this.unacked--;
    this.drop(entry, 'rejected');
    this.afterSettle();
  }

  /**
   * Delivered entries come back (nack/reject with requeue, basic.recover, channel close), each at its
   * original position (RabbitMQ ≥ 2.7), marked redelivered.
   */
  requeue(entries: readonly QueueEntry[]): void {
    if (this.deleted) {
      for (const e of entries) this.host.settled(this, e);
      return;
    }
    // Insert newest first: each lands at or near the head, mostly as an O(1) unshift.
    const sorted = entries.length > 1 ? [...entries].sort((a, b) => b.seq - a.seq) : entries;
    for (const entry of sorted) {
      this.unacked--;
      entry.redelivered = true;
      const at = this.ready.requeue(entry);
      this.readyBytesTotal += entry.message.size;
      this.pager?.requeuedAt(at);
    }
    this.deliverAvailable();
    this.host.queueChanged?.(this);
  }

  /** A delivered entry's consumer is gone but its message stays unacked elsewhere (no state change). */
  private afterSettle(): void {
    if (this.ready.length > 0) this.deliverAvailable();
    this.host.queueChanged?.(this);
  }

  addConsumer(consumer: Consumer): void {
    this.consumerList.push(consumer);
    this.hadConsumer = true;
    const priority = consumer.priority;
    if (priority !== 0 || this.consumerList.some((c) => c.priority !== 0)) {
      // Highest priority first; equal priorities keep their subscription order (stable sort).
      this.consumerList.sort((a, b) => b.priority - a.priority);
    }
    this.clearExpiryTimer();
    this.deliverAvailable();
  }

  /** Returns true when the queue deleted itself (auto-delete after its last consumer). */
  removeConsumer(consumer: Consumer): boolean {
    const i = this.consumerList.indexOf(consumer);
    if (i < 0) return false;
    this.consumerList.splice(i, 1);
    if (this.roundRobin > i) this.roundRobin--;
    if (this.consumerList.length === 0) {
      if (this.autoDelete && this.hadConsumer) {
        this.host.expireQueue(this);
        return true;
      }
      this.touch();
    } else if (this.policy.singleActiveConsumer && i === 0) {
      this.deliverAvailable();
    }
    this.host.queueChanged?.(this);
    return false;
  }

  hasConsumerTag(tag: string): boolean {
    return this.consumerList.some((c) => c.tag === tag);
  }

  /** Drop every ready message; returns how many. Unacked messages are untouched (RabbitMQ). */
  purge(): number {
    const n = this.ready.length;
    for (const entry of this.ready) this.host.settled(this, entry);
    this.ready.clear();
    this.readyBytesTotal = 0;
    this.pager?.cleared();
    this.host.queueChanged?.(this);
    return n;
  }

  /** The queue is being deleted: stop timers, settle its messages, tell consumers. */
  destroy(): number {
    this.deleted = true;
    this.clearExpiryTimer();
    if (this.ttlTimer) clearTimeout(this.ttlTimer);
    this.ttlTimer = undefined;
    this.pager?.stop();
    const n = this.purge();
    const consumers = this.consumerList.splice(0);
    for (const c of consumers) c.cancelledByBroker(this);
    return n;
  }

  /** Queue use (declare, get, consume) restarts the x-expires clock (RabbitMQ's "unused" definition). */
  touch(): void {
    const expires = this.policy.expires;
    if (expires === undefined || this.deleted) return;
    this.clearExpiryTimer();
    if (this.consumerList.length > 0) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (this.consumerList.length === 0 && !this.deleted) this.host.expireQueue(this);
    }, expires);
  }

  /** Ready entries in order, for inspection and tests. */
  readyEntries(): Iterator<QueueEntry> {
    return this.ready[Symbol.iterator]();
  }

  private clearExpiryTimer(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private nextConsumer(): Consumer | undefined {
    const list = this.consumerList;
    const n = list.length;
    if (this.policy.singleActiveConsumer) {
      const active = list[0];
      return active !== undefined && active.canTake() ? active : undefined;
    }
    if (n === 1) {
      const only = list[0]!;
      return only.canTake() ? only : undefined;
    }
    // Priorities: consumers are sorted highest first; only fall to a lower priority when every
    // higher-priority consumer is out of credit (RabbitMQ consumer priorities).
    let start = 0;
    while (start < n) {
      const priority = list[start]!.priority;
      let end = start + 1;
      while (end < n && list[end]!.priority === priority) end++;
      const size = end - start;
      for (let k = 0; k < size; k++) {
        const idx = start + ((this.roundRobin + k) % size);
        const c = list[idx]!;
        if (c.canTake()) {
          this.roundRobin = (idx - start + 1) % size;
          return c;
        }
      }
      start = end;
    }
    return undefined;
  }

  private isFullFor(size: number): boolean {
    const p = this.policy;
    return (p.maxLength !== undefined && this.ready.length >= p.maxLength)
      || (p.maxLengthBytes !== undefined && this.readyBytesTotal + size > p.maxLengthBytes);
  }

  /** x-overflow drop-head: drop (dead-letter as maxlen) from the head until within the limits. */
  private dropHeadOverLimit(): void {
    const p = this.policy;
    while (this.ready.length > 0
      && ((p.maxLength !== undefined && this.ready.length > p.maxLength)
        || (p.maxLengthBytes !== undefined && this.readyBytesTotal > p.maxLengthBytes))) {
      const entry = this.ready.peek()!;
      if (entry.message.body === null && p.deadLetterExchange !== undefined) {
        // Dead-lettering needs the content: the read-ahead's completion trims again.
        this.pager?.readAhead();
        return;
      }
      this.ready.shift();
      this.shifted(entry, false);
      this.drop(entry, 'maxlen');
    }
    this.pager?.readAheadIfLow();
  }

  private drop(entry: QueueEntry, reason: DeadLetterReason): void {
    if (this.policy.deadLetterExchange !== undefined) this.host.deadLetter(this, entry.message, reason);
    this.host.settled(this, entry);
  }

  private hasTtl(): boolean {
    return this.policy.messageTtl !== undefined || this.ttlTimerAt !== 0 || this.anyMessageTtl;
  }

  /** Set once any message with a per-message expiration entered; keeps the hot path free otherwise. */
  private anyMessageTtl = false;

  /** Per-message `expiration` and x-message-ttl: the lower wins (RabbitMQ). */
  private expiryFor(message: Message): number {
    let ttl = this.policy.messageTtl;
    const exp = message.properties!.expiration; // at enqueue: resident
    if (exp !== undefined) {
      const n = Number(exp);
      if (Number.isInteger(n) && n >= 0) {
        this.anyMessageTtl = true;
        ttl = ttl === undefined ? n : Math.min(ttl, n);
      }
    }
    return ttl === undefined ? 0 : Date.now() + ttl;
  }

  /**
   * Expired messages are removed when they reach the head (RabbitMQ's classic queues do the same, so
   * a message with a long TTL ahead of one with a short TTL holds it back). A timer wakes the queue for
   * the head's expiry even when nobody consumes.
   */
  expireHead(): void {
    const now = Date.now();
    for (;;) {
      const head = this.ready.peek();
      if (head === undefined || head.expiresAt === 0) break;
      if (head.expiresAt > now) {
        this.pager?.readAheadIfLow();
        this.scheduleTtl(head.expiresAt);
        return;
      }
      if (head.message.body === null && this.policy.deadLetterExchange !== undefined) {
        // Dead-lettering needs the content: the read-ahead's completion expires it.
        this.pager?.readAhead();
        return;
      }
      this.ready.shift();
      // No read-ahead per expired head: a run of them is dropped without reading any.
      this.shifted(head, false);
      this.drop(head, 'expired');
    }
    this.pager?.readAheadIfLow();
    if (this.ttlTimer) clearTimeout(this.ttlTimer);
    this.ttlTimer = undefined;
    this.ttlTimerAt = 0;
  }

  // ------------------------------------------------------------------ paging (queue-pager.ts)

  /** Every shift from the head goes through here; a queue that pages may start a read-ahead. */
  private shifted(entry: QueueEntry, readAhead = true): void {
    this.readyBytesTotal -= entry.message.size;
    if (this.pager !== null) this.pager.shifted(entry, readAhead);
  }

  /** PagerOwner: a read-back batch is in. */
  readBack(): void {
    if (this.hasTtl()) this.expireHead();
    if (this.policy.maxLength !== undefined || this.policy.maxLengthBytes !== undefined) this.dropHeadOverLimit();
    this.deliverAvailable();
    this.host.queueChanged?.(this);
  }

  /** PagerOwner: an entry the store could not return left the ready list. */
  lostEntry(message: Message): void {
    this.readyBytesTotal -= message.size;
  }

  /**
   * basic.get found the head paged out: `resume` runs once a read-back completes (or the queue is purged
   * or deleted); the caller then asks again.
   */
  whenHeadReadable(resume: () => void): void {
    if (this.pager === null) resume();
    else this.pager.whenHeadReadable(resume);
  }

  private scheduleTtl(at: number): void {
    if (this.ttlTimer !== undefined && this.ttlTimerAt <= at) return;
    if (this.ttlTimer) clearTimeout(this.ttlTimer);
    this.ttlTimerAt = at;
    this.ttlTimer = setTimeout(() => {
      this.ttlTimer = undefined;
      this.ttlTimerAt = 0;
      if (!this.deleted) this.expireHead();
      this.host.queueChanged?.(this);
    }, Math.max(0, at - Date.now()));
  }
}
