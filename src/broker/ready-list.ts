/**
 * A queue's ready messages. Plain queues keep one ring in publish order; priority queues
 * (x-max-priority) keep one ring per priority and serve the highest non-empty one first, as RabbitMQ's
 * rabbit_priority_queue does. Within a ring, entries stay sorted by their queue sequence number, so a
 * requeued entry goes back to its original position (near the head: every requeued entry is older than
 * every entry still waiting, except other requeued ones).
 */
import type { QueueEntry } from './message.js';
import { Ring } from './ring.js';

export interface ReadyList extends Iterable<QueueEntry> {
  readonly length: number;
  push(entry: QueueEntry): void;
  shift(): QueueEntry | undefined;
  peek(): QueueEntry | undefined;
  /** Put a delivered entry back at its original position; returns that position (0 = head). */
  requeue(entry: QueueEntry): number;
  clear(): void;
}

export function createReadyList(maxPriority: number | undefined): ReadyList {
  return maxPriority === undefined ? new FifoReadyList() : new PriorityReadyList(maxPriority);
}

function insertBySeq(ring: Ring<QueueEntry>, entry: QueueEntry): number {
  let lo = 0;
  let hi = ring.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring.at(mid)!.seq < entry.seq) lo = mid + 1;
    else hi = mid;
  }
  ring.insertAt(lo, entry);
  return lo;
}

/** Publish order. Exported for paging, which walks it by position (queue.ts). */
export class FifoReadyList implements ReadyList {
  private readonly ring = new Ring<QueueEntry>();

  get length(): number {
    return this.ring.length;
  }

  push(entry: QueueEntry): void {
    this.ring.push(entry);
  }

  shift(): QueueEntry | undefined {
    return this.ring.shift();
  }

  peek(): QueueEntry | undefined {
    return this.ring.peek();
  }

  requeue(entry: QueueEntry): number {
    return insertBySeq(this.ring, entry);
  }

  /** The entry at position i (0 = head), O(1). */
  at(i: number): QueueEntry | undefined {
    return this.ring.at(i);
  }

  /**
   * Remove the entry at position i: O(i), for the rare message that cannot be read back (paging keeps
   * such entries within its read-ahead window, near the head).
   */
  removeAt(i: number): QueueEntry | undefined {
    if (i === 0) return this.ring.shift();
    const before: QueueEntry[] = [];
    for (let k = 0; k < i; k++) before.push(this.ring.shift()!);
    const removed = this.ring.shift();
    for (let k = before.length - 1; k >= 0; k--) this.ring.unshift(before[k]!);
    return removed;
  }

  clear(): void {
    this.ring.clear();
  }

  [Symbol.iterator](): Iterator<QueueEntry> {
    return this.ring[Symbol.iterator]();
  }
}

class PriorityReadyList implements ReadyList {
  /** rings[p] holds priority p; index maxPriority is served first. */
  private readonly rings: Ring<QueueEntry>[] = [];
  private count = 0;

  constructor(private readonly maxPriority: number) {
    for (let p = 0; p <= maxPriority; p++) this.rings.push(new Ring<QueueEntry>(4));
  }

  get length(): number {
    return this.count;
  }

  /** A message without priority counts as 0; one above the maximum as the maximum (RabbitMQ). */
  private ringFor(entry: QueueEntry): Ring<QueueEntry> {
    return this.rings[Math.min(entry.message.priority, this.maxPriority)]!;
  }

  push(entry: QueueEntry): void {
    this.ringFor(entry).push(entry);
    this.count++;
  }

  shift(): QueueEntry | undefined {
    if (this.count === 0) return undefined;
    for (let p = this.maxPriority; p >= 0; p--) {
      const ring = this.rings[p]!;
      if (ring.length > 0) {
        this.count--;
        return ring.shift();
      }
    }
    return undefined;
  }

  peek(): QueueEntry | undefined {
    for (let p = this.maxPriority; p >= 0; p--) {
      const head = this.rings[p]!.peek();
      if (head !== undefined) return head;
    }
    return undefined;
  }

  /** Position within the entry's priority ring (paging never applies to priority queues). */
  requeue(entry: QueueEntry): number {
    const at = insertBySeq(this.ringFor(entry), entry);
    this.count++;
    return at;
  }

  clear(): void {
    for (const ring of this.rings) ring.clear();
    this.count = 0;
  }

  *[Symbol.iterator](): Iterator<QueueEntry> {
    for (let p = this.maxPriority; p >= 0; p--) yield* this.rings[p]!;
  }
}
