/**
 * Paging for one durable FIFO queue (see queue.ts's header and memory-budget.ts): which ready entries are
 * resident, paging out entries beyond the read-ahead window once they are written, and reading them back
 * in order, one batch in flight. While pagedEntries is 0 every ready entry is resident and the counters are
 * idle, so a queue that never pages pays a few integer checks.
 *
 * The pager shares the queue's ready list (the same FifoReadyList) and reports back through PagerOwner.
 */
import { type MemoryBudget, type Pageable, READ_AHEAD_ENTRIES } from './memory-budget.js';
import type { Message, QueueEntry } from './message.js';
import type { FifoReadyList } from './ready-list.js';

/** After a failed read-back, wait this long before trying again (the store logged the failure). */
const LOAD_RETRY_MS = 1000;

/** What a pager needs from its queue. */
export interface PagerOwner {
  readonly deleted: boolean;
  /** Seq of the newest entry the queue has taken. */
  readonly lastSeq: number;
  /** Bytes of the ready messages (for the read-ahead window at the average message size). */
  readonly readyBytes: number;
  /** The budget when stored messages may be paged out (LevelDB store), else null. */
  readonly budget: MemoryBudget | null;
  /** A read-back batch is in: expire, trim and deliver from the head again. */
  readBack(): void;
  /** A ready entry whose message the store could not return was removed from the list. */
  lostEntry(message: Message): void;
}

export class QueuePager implements Pageable {
  /** Ready entries whose message is paged out. */
  pagedEntries = 0;
  /** The first residentCount ready entries are resident; later ones may be paged out. */
  private residentCount = 0;
  /** Ready entries before this position were already considered for page-out. */
  private scanFrom = 0;
  /** Entries up to this seq were written before the commit a pending page-out waits for. */
  private commitPoint = 0;
  /** In the budget's watch list (entries appended since the last page-out scan). */
  private watched = false;
  /** A read-ahead batch is in flight, or a failed one waits out LOAD_RETRY_MS. */
  private loading = false;
  private loadRetryTimer: NodeJS.Timeout | undefined;
  /** basic.get callers waiting for a paged-out head (whenHeadReadable). */
  private headWaiters: (() => void)[] | null = null;

  constructor(
    private readonly owner: PagerOwner,
    private readonly list: FifoReadyList,
  ) {}

  get deleted(): boolean {
    return this.owner.deleted;
  }

  /** A stored message was appended: the budget scans this queue at its next page-out. */
  appended(): void {
    if (this.watched) return;
    const budget = this.owner.budget;
    if (budget === null) return;
    this.watched = true;
    budget.watch(this);
  }

  /**
   * Bookkeeping for the head entry just shifted out of the ready list (every shift goes through here);
   * starts a read-ahead when the resident entries at the head fall below half the window.
   */
  shifted(entry: QueueEntry, readAhead: boolean): void {
    if (this.scanFrom > 0) this.scanFrom--;
    if (this.pagedEntries === 0) return;
    if (this.residentCount > 0) this.residentCount--;
    else if (entry.message.body === null) this.pagedEntries--;
    if (readAhead) this.readAheadIfLow();
  }

  /** A delivered entry went back to position `at`: it is resident and lands at or near the head. */
  requeuedAt(at: number): void {
    if (at < this.scanFrom) this.scanFrom++;
    if (this.pagedEntries !== 0 && at <= this.residentCount) this.residentCount++;
  }

  /** Recovery is about to append a paged-out stub at position `at`: everything before the first is resident. */
  recoveredStub(at: number): void {
    if (this.pagedEntries++ === 0) this.residentCount = at;
  }

  /** Recovery chose what is resident: nothing up to `length` is for page-out to scan. */
  recovered(length: number): void {
    this.scanFrom = length;
  }

  /** The ready list was emptied (purge, delete): a get waiting for a paged-out head finds it empty now. */
  cleared(): void {
    this.pagedEntries = 0;
    this.residentCount = 0;
    this.scanFrom = 0;
    this.wakeHeadWaiters();
  }

  /** The queue is deleted: no retry after a failed read-back. */
  stop(): void {
    if (this.loadRetryTimer) clearTimeout(this.loadRetryTimer);
    this.loadRetryTimer = undefined;
  }

  readAheadIfLow(): void {
    if (this.pagedEntries !== 0 && !this.loading && this.residentCount * 2 < this.windowEntries()) this.readAhead();
  }

  /**
   * Read-ahead window in entries: READ_AHEAD_ENTRIES, fewer when the queue's messages are large (the
   * window holds at most the budget's windowBytes at the queue's average message size).
   */
  private windowEntries(): number {
    const budget = this.owner.budget;
    if (budget === null) return READ_AHEAD_ENTRIES;
    const n = this.list.length;
    const average = n === 0 ? 1 : Math.max(1, this.owner.readyBytes / n);
    return Math.max(1, Math.min(READ_AHEAD_ENTRIES, Math.floor(budget.windowBytes / average)));
  }

  /** Pageable: entries up to the newest seq are written before the commit the budget now waits for. */
  markCommitPoint(): void {
    this.commitPoint = this.owner.lastSeq;
  }

  /**
   * Pageable: page out, from the entries appended since the last scan, those beyond the read-ahead
   * window that are written (seq up to the commit point) and held by this queue alone, until the budget
   * is back under its target. O(entries scanned): each entry is considered once.
   */
  pageOut(budget: MemoryBudget): boolean {
    if (this.owner.deleted) {
      this.watched = false;
      return true;
    }
    const list = this.list;
    const n = list.length;
    const point = this.commitPoint;
    let i = Math.max(this.scanFrom, this.windowEntries());
    for (; i < n; i++) {
      if (budget.underTarget) break;
      const entry = list.at(i)!;
      if (entry.seq > point) break;
      const m = entry.message;
      if (m.body !== null && m.storeId !== 0 && m.storeRefs === 1 && !m.shared) {
        budget.pageOut(m);
        if (this.pagedEntries++ === 0 || i < this.residentCount) this.residentCount = i;
      }
    }
    this.scanFrom = i;
    if (i < n) return false;
    this.watched = false;
    return true;
  }

  /**
   * Read the next paged-out entries back, up to the read-ahead window, one batch in flight. Delivery
   * stops at a paged-out head meanwhile and resumes when the batch is in (afterLoad).
   */
  readAhead(): void {
    if (this.loading || this.pagedEntries === 0 || this.owner.deleted) return;
    const list = this.list;
    const budget = this.owner.budget;
    if (budget === null) return;
    const end = Math.min(list.length, Math.max(this.windowEntries(), this.residentCount + 1));
    const batch: Message[] = [];
    for (let i = this.residentCount; i < end; i++) {
      const m = list.at(i)!.message;
      if (m.body === null) batch.push(m);
    }
    if (batch.length === 0) {
      // Everything up to the window end is resident already.
      this.residentCount = end;
      return;
    }
    this.loading = true;
    budget.load(batch, (error) => this.afterLoad(batch, error));
  }

  private afterLoad(batch: readonly Message[], error: Error | null): void {
    if (this.owner.deleted) {
      this.loading = false;
      return;
    }
    if (error !== null) {
      // The store failed (and logged it): retry after a pause rather than at every delivery attempt.
      this.loadRetryTimer = setTimeout(() => {
        this.loadRetryTimer = undefined;
        this.loading = false;
        this.readAhead();
      }, LOAD_RETRY_MS);
      this.wakeHeadWaiters();
      return;
    }
    this.loading = false;
    // What came back is resident now; a message the store could not return (missing or unreadable
    // record, logged by the store layer) cannot be delivered: its entry is dropped, its records kept.
    let lost: Set<Message> | null = null;
    for (const m of batch) {
      if (m.body !== null) this.pagedEntries--;
      else if (m.storeId !== 0) (lost ??= new Set()).add(m);
    }
    const list = this.list;
    let i = this.residentCount;
    while (i < list.length) {
      const m = list.at(i)!.message;
      if (m.body !== null) {
        i++;
        continue;
      }
      if (lost === null || !lost.has(m)) break;
      list.removeAt(i);
      lost.delete(m);
      this.pagedEntries--;
      this.owner.lostEntry(m);
      if (i < this.scanFrom) this.scanFrom--;
    }
    this.residentCount = this.pagedEntries === 0 ? 0 : i;
    this.wakeHeadWaiters();
    this.owner.readBack();
    this.readAheadIfLow();
  }

  /**
   * basic.get found the head paged out: `resume` runs once a read-back completes (or the queue is purged
   * or deleted); the caller then asks again.
   */
  whenHeadReadable(resume: () => void): void {
    (this.headWaiters ??= []).push(resume);
    this.readAhead();
  }

  private wakeHeadWaiters(): void {
    const waiters = this.headWaiters;
    if (waiters === null) return;
    this.headWaiters = null;
    for (const w of waiters) w();
  }
}
