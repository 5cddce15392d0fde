/**
 * A growable ring buffer (double-ended queue). Queues hold up to millions of messages, so FIFO removal
 * must be O(1): `Array.prototype.shift` on a large array is O(n) in V8.
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private mask: number;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.items = new Array<T | undefined>(cap);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  unshift(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    if (this.count === 0) this.head = 0;
    else if (this.items.length > 1024 && this.count < this.items.length >>> 2) this.shrink();
    return item;
  }

  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const i = (this.head + this.count - 1) & this.mask;
    const item = this.items[i];
    this.items[i] = undefined;
    this.count--;
    return item;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  peekLast(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.head + this.count - 1) & this.mask];
  }

  /** Item at position i from the head (0-based), or undefined. */
  at(i: number): T | undefined {
    return i < 0 || i >= this.count ? undefined : this.items[(this.head + i) & this.mask];
  }

  /** Insert at position i (0 = head), shifting later items; O(distance to the nearer end). */
  insertAt(i: number, item: T): void {
    if (i <= 0) return this.unshift(item);
    if (i >= this.count) return this.push(item);
    if (this.count === this.items.length) this.grow();
    if (i < this.count >>> 1) {
      this.head = (this.head - 1) & this.mask;
      for (let k = 0; k < i; k++) this.items[(this.head + k) & this.mask] = this.items[(this.head + k + 1) & this.mask];
    } else {
      for (let k = this.count; k > i; k--) this.items[(this.head + k) & this.mask] = this.items[(this.head + k - 1) & this.mask];
    }
    this.items[(this.head + i) & this.mask] = item;
    this.count++;
  }

  clear(): void {
    this.items = new Array<T | undefined>(16);
    this.mask = 15;
    this.head = 0;
    this.count = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) & this.mask] as T;
  }

  private grow(): void {
    this.resize(this.items.length * 2);
  }

  private shrink(): void {
    this.resize(this.items.length >>> 1);
  }

  private resize(cap: number): void {
    const next = new Array<T | undefined>(cap);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & this.mask];
    this.items = next;
    this.mask = cap - 1;
    this.head = 0;
  }
}
