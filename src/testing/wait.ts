/**
 * broker.waitFor: promises that settle on model events, never by polling. The model tells its observer
 * whenever a queue is declared or deleted or its ready/unacked/consumer counts may have changed; the
 * observer is attached only while some wait is pending, so with nobody waiting each hook in the model
 * is one null check. Each pending wait re-tests its condition against the queue as it is now.
 */
import type { Broker } from '../broker/broker.js';
import type { Queue } from '../broker/queue.js';
import type { QueueObserver } from '../broker/vhost.js';
import { type QueueInfo, queueInfo } from './inspect.js';

/** Short enough to fail with its own message before mocha's (2 s) or Jest's (5 s) test timeout. */
export const DEFAULT_WAIT_TIMEOUT_MS = 1500;

export interface WaitOptions {
  /** Milliseconds before the promise rejects with a WaitTimeoutError (default 1500). */
  readonly timeout?: number;
  /** Virtual host of the queue (default: the broker's default vhost). */
  readonly vhost?: string;
}

/** A wait's condition did not come true before its timeout. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

export interface BrokerWaits {
  /** Resolves once the queue exists. */
  queue(name: string, options?: WaitOptions): Promise<QueueInfo>;
  /** Resolves once no queue of that name exists (at once if there is none). */
  queueDeleted(name: string, options?: WaitOptions): Promise<void>;
  /** Resolves once the queue exists and holds exactly `count` ready messages (unacked ones not counted). */
  messages(name: string, count: number, options?: WaitOptions): Promise<QueueInfo>;
  /** Resolves once exactly `count` of the queue's messages are delivered and not yet acknowledged. */
  unacked(name: string, count: number, options?: WaitOptions): Promise<QueueInfo>;
  /** Resolves once the queue has at least one consumer. */
  consumer(name: string, options?: WaitOptions): Promise<QueueInfo>;
  /** Resolves once the queue has exactly `count` consumers. */
  consumers(name: string, count: number, options?: WaitOptions): Promise<QueueInfo>;
  /**
   * Resolves once `predicate` holds for the queue's state (undefined while the queue does not exist).
   * The predicate runs synchronously inside the broker after each change: keep it a pure, quick check.
   */
  until(name: string, predicate: (queue: QueueInfo | undefined) => boolean, options?: WaitOptions): Promise<QueueInfo | undefined>;
}

interface Waiter {
  readonly queueName: string;
  readonly vhost: string;
  /** The call, as the user wrote it, for error messages. */
  readonly what: string;
  readonly test: (queue: Queue | undefined) => boolean;
  /** Takes the snapshot at once: later changes in the same tick must not leak into it. */
  readonly resolve: (queue: Queue | undefined) => void;
  readonly reject: (error: Error) => void;
}

/** The pending waits of one broker, indexed by vhost then queue name. */
export class QueueWaits implements BrokerWaits, QueueObserver {
  private readonly waiters = new Map<string, Map<string, Set<Waiter>>>();
  private pending = 0;
  private closedReason: string | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly defaultVhost: string,
  ) {}

  queue(name: string, options?: WaitOptions): Promise<QueueInfo> {
    return this.wait(name, options, `waitFor.queue('${name}')`, (q) => q !== undefined) as Promise<QueueInfo>;
  }

  queueDeleted(name: string, options?: WaitOptions): Promise<void> {
    return this.wait(name, options, `waitFor.queueDeleted('${name}')`, (q) => q === undefined).then(() => undefined);
  }

  messages(name: string, count: number, options?: WaitOptions): Promise<QueueInfo> {
    return this.wait(name, options, `waitFor.messages('${name}', ${count})`, (q) => q !== undefined && q.messageCount === count) as Promise<QueueInfo>;
  }

  unacked(name: string, count: number, options?: WaitOptions): Promise<QueueInfo> {
    return this.wait(name, options, `waitFor.unacked('${name}', ${count})`, (q) => q !== undefined && q.unackedCount === count) as Promise<QueueInfo>;
  }

  consumer(name: string, options?: WaitOptions): Promise<QueueInfo> {
    return this.wait(name, options, `waitFor.consumer('${name}')`, (q) => q !== undefined && q.consumerCount > 0) as Promise<QueueInfo>;
  }

  consumers(name: string, count: number, options?: WaitOptions): Promise<QueueInfo> {
    return this.wait(name, options, `waitFor.consumers('${name}', ${count})`, (q) => q !== undefined && q.consumerCount === count) as Promise<QueueInfo>;
  }

  until(name: string, predicate: (queue: QueueInfo | undefined) => boolean, options?: WaitOptions): Promise<QueueInfo | undefined> {
    return this.wait(name, options, `waitFor.until('${name}', ...)`, (q) => predicate(q === undefined ? undefined : queueInfo(q.host.name, q)));
  }

  /** QueueObserver: re-test the waits on this queue's name against the vhost's current state. */
  queueChanged(queue: Queue): void {
    const set = this.waiters.get(queue.host.name)?.get(queue.name);
    if (set === undefined) return;
    const current = this.broker.vhost(queue.host.name)?.queues.get(queue.name);
    for (const w of set) this.check(w, current);
  }

  /** The broker is closing: every pending wait rejects. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const byName of this.waiters.values()) {
      for (const set of byName.values()) {
        for (const w of set) w.reject(new Error(`${w.what}: ${reason} while waiting`));
      }
    }
  }

  /** Resolves with a snapshot of the queue taken when the condition came true (undefined: no queue). */
  private wait(name: string, options: WaitOptions | undefined, what: string, test: (q: Queue | undefined) => boolean): Promise<QueueInfo | undefined> {
    const vhostName = options?.vhost ?? this.defaultVhost;
    const timeout = options?.timeout ?? DEFAULT_WAIT_TIMEOUT_MS;
    // The caller's stack, so a timeout points at the test line rather than at a timer.
    const site = new Error();
    return new Promise<QueueInfo | undefined>((resolve, reject) => {
      if (this.closedReason !== null) {
        reject(new Error(`${what}: ${this.closedReason}`));
        return;
      }
      const vhost = this.broker.vhost(vhostName);
      if (vhost === undefined) {
        reject(new Error(`${what}: no vhost '${vhostName}'`));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        queueName: name,
        vhost: vhostName,
        what,
        test,
        resolve: (q) => {
          this.remove(waiter);
          clearTimeout(timer);
          resolve(q === undefined ? undefined : queueInfo(vhostName, q));
        },
        reject: (err) => {
          this.remove(waiter);
          clearTimeout(timer);
          reject(err);
        },
      };
      this.add(waiter);
      if (!this.check(waiter, vhost.queues.get(name))) return;
      timer = setTimeout(() => {
        const q = this.broker.vhost(vhostName)?.queues.get(name);
        const err = new WaitTimeoutError(`${what} timed out after ${timeout} ms: ${describe(name, vhostName, q)}`);
        err.stack = `${err.name}: ${err.message}\n${(site.stack ?? '').split('\n').slice(1).join('\n')}`;
        waiter.reject(err);
      }, timeout);
    });
  }

  /** Returns true while the waiter is still pending. */
  private check(w: Waiter, current: Queue | undefined): boolean {
    let done: boolean;
    try {
      done = w.test(current);
    } catch (err) {
      w.reject(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    if (done) w.resolve(current);
    return !done;
  }

  private add(w: Waiter): void {
    let byName = this.waiters.get(w.vhost);
    if (byName === undefined) this.waiters.set(w.vhost, byName = new Map());
    let set = byName.get(w.queueName);
    if (set === undefined) byName.set(w.queueName, set = new Set());
    set.add(w);
    if (this.pending++ === 0) this.broker.observer = this;
  }

  private remove(w: Waiter): void {
    const byName = this.waiters.get(w.vhost);
    const set = byName?.get(w.queueName);
    if (set === undefined || !set.delete(w)) return;
    if (set.size === 0) byName!.delete(w.queueName);
    if (byName!.size === 0) this.waiters.delete(w.vhost);
    // Nobody waits: detach, so the model's hooks are back to a null check.
    if (--this.pending === 0) this.broker.observer = null;
  }
}

function describe(name: string, vhost: string, q: Queue | undefined): string {
  if (q === undefined) return `no queue '${name}' in vhost '${vhost}'`;
  return `queue '${name}' in vhost '${vhost}' has ${q.messageCount} ready, ${q.unackedCount} unacked, ${q.consumerCount} consumer(s)`;
}
