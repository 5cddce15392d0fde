/**
 * The broker's persistence: implements the model's VhostPersistence over a Store, and recovers the model
 * from the store at startup.
 *
 * Writes. Durable exchanges, durable queues (with their arguments) and bindings between durable
 * entities are written when declared and deleted when deleted. A persistent message entering a durable
 * queue is written once (Message.storeId) with one entry per durable queue holding it (Message.storeRefs);
 * the message record goes when its last entry is settled. The first delivery of a stored entry rewrites
 * it with the delivered flag, so after a restart exactly those entries come back redelivered (RabbitMQ
 * records deliveries in its queue index for the same reason). Transient messages and non-durable queues
 * never reach the store.
 *
 * Recovery replays the stored topology through the same VirtualHost methods live commands use, with
 * `loading` set so nothing is written back (LavinMQ's definitions replay), then hands each durable queue
 * its entries in seq order. It reads message records only for what it keeps in memory: each queue's
 * first entries, up to its read-ahead window and the memory budget (memory-budget.ts); the rest come
 * back paged out, built from their entry records (which carry body size and priority), and are read back
 * ahead of delivery. Records that cannot be decoded are logged with their key, skipped and counted; so
 * are records the model refuses. Leftovers of interrupted deletions (bindings whose ends are gone,
 * entries of deleted queues, messages no entry references) are deleted, but only when every record
 * decoded and was accepted: otherwise they might belong to the damaged record, and stay. Finding
 * messages no entry references takes a pass over every message key, so that one runs after the
 * listener is up (removeOrphanMessages).
 * Durable auto-delete queues come back, as in RabbitMQ: they go once a consumer has come and gone.
 * Exclusive queues are never durable here (rabbit_channel), so they never come back.
 */
import type { Logger } from 'winston';
import type { Broker } from '../broker/broker.js';
import type { Binding } from '../broker/binding.js';
import type { Exchange } from '../broker/exchange.js';
import {
  DEFAULT_MEMORY_BUDGET, MemoryBudget, type PageSource, READ_AHEAD_ENTRIES, type StoredContent,
} from '../broker/memory-budget.js';
import { Message, type MessageProperties, QueueEntry } from '../broker/message.js';
import type { Queue } from '../broker/queue.js';
import type { VhostPersistence, VirtualHost } from '../broker/vhost.js';
import { bindingKey, entityKey, entryKey, KeyPrefix, messageKey } from './keys.js';
import type { BindingRecord, CommitCallback, CorruptRecord, EntryRecord, Store } from './store.js';

export interface PersistenceOptions {
  readonly store: Store;
  readonly log: Logger;
  /** Rebuild a stored message's properties from its raw property list (the server's ContentProperties). */
  readonly properties: (raw: Buffer) => MessageProperties;
  /** Store backlog (bytes queued or being written) above which publishers should be paused. */
  readonly highWaterBytes?: number;
  /** Bytes of stored message bodies kept in memory (BrokerConfig.memoryBudget); LevelDB store only. */
  readonly memoryBudget?: number;
}

export interface RecoveryStats {
  exchanges: number;
  queues: number;
  bindings: number;
  /** Entries handed back to queues (a message in two queues counts twice). */
  entries: number;
  /** Distinct messages those entries hold. */
  messages: number;
  /** Entries that had been delivered and not acked: they come back with redelivered set. */
  redelivered: number;
  /** Entries recovered paged out: their message records were not read (they are read ahead of delivery). */
  paged: number;
  /** Records that could not be decoded (left in place, logged with their key). */
  corrupt: number;
  /** Decoded topology records the model refused (unknown exchange type, invalid arguments...). */
  refused: number;
  /** Bindings whose source or destination no longer exists, deleted. */
  orphanBindings: number;
  /** Entries of queues that no longer exist, deleted. */
  orphanEntries: number;
  /** Entries whose message record is missing or unreadable, deleted. */
  danglingEntries: number;
  /** Messages no entry referenced, deleted (by removeOrphanMessages, after startup). */
  orphanMessages: number;
  /** Leftovers kept because some record was corrupt or refused (they may belong to it). */
  keptLeftovers: number;
  elapsedMs: number;
}

/** Default backlog at which publishers are paused: enough for a few batches of large messages. */
export const DEFAULT_HIGH_WATER_BYTES = 64 * 1024 * 1024;

/** Recovered entries are handed to a queue in chunks, so no array holds a whole large queue. */
const RECOVER_CHUNK = 4096;
/** Message records read per store call during recovery. */
const LOAD_BATCH = READ_AHEAD_ENTRIES;

/** Thrown into the orphan scan to stop it when the store closes. */
class ScanStopped extends Error {}

/** What removeOrphanMessages needs from recovery. */
interface OrphanScan {
  /** Ids of messages recovered entries reference, ascending. */
  readonly referenced: Float64Array;
  /** Ids above this were assigned after startup. */
  readonly highestId: number;
  readonly stats: RecoveryStats;
}


export class Persistence implements VhostPersistence, PageSource {
  readonly store: Store;
  /** Paging of long durable queues; null with the memory store, which keeps every message in memory anyway. */
  readonly budget: MemoryBudget | null;
  private readonly log: Logger;
  private readonly properties: (raw: Buffer) => MessageProperties;
  private readonly highWaterBytes: number;
  private nextMessageId = 1;
  private nextQueueId = 1;
  /**
   * Store id of each durable queue incarnation. Kept after the queue is deleted (weakly) so that settling
   * its still-unacked entries deletes them.
   */
  private readonly queueIds = new WeakMap<Queue, number>();
  /** What the last recover() did (orphan messages are added once removeOrphanMessages is done). */
  recoveryStats: RecoveryStats | null = null;
  private orphanScan: OrphanScan | null = null;
  private orphanScanRunning: Promise<void> | null = null;
  private closing = false;

  constructor(options: PersistenceOptions) {
    this.store = options.store;
    this.log = options.log;
    this.properties = options.properties;
    this.highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.budget = options.store.kind === 'level' ? new MemoryBudget(options.memoryBudget ?? DEFAULT_MEMORY_BUDGET, this) : null;
  }


  /** True while the store is behind: the server stops reading from publishers until afterCommit. */
  get overloaded(): boolean {
    return this.store.backlogBytes > this.highWaterBytes;
  }

  /** Run `callback` once every write made so far is durable (publisher confirms, tx.commit-ok). */
  afterCommit(callback: CommitCallback): void {
    this.store.afterCommit(callback);
  }

  /** Write everything pending and release the store (stopping the orphan scan if it still runs). */
  async close(): Promise<void> {
    this.closing = true;
    await this.orphanScanRunning;
    return this.store.close();
  }

  /**
   * PageSource: read paged-out messages back for a queue. A record that is missing or cannot be decoded
   * is logged and reported as undefined; the queue drops that entry and leaves the records in place (they
   * may be repaired, and a restart logs them again).
   */
  loadContent(ids: readonly number[], done: (error: Error | null, content: readonly (StoredContent | undefined)[]) => void): void {
    if (this.closing) {
      setImmediate(done, new Error('store closed'), []);
      return;
    }
    const corrupt = (c: CorruptRecord): void => {
      this.log.warn(`store: cannot read back ${c.kind} record: ${c.reason}`, { key: c.key.toString('hex') });
    };
    this.store.loadMessages(ids, corrupt).then((records) => {
      const content: (StoredContent | undefined)[] = [];
      for (let i = 0; i < ids.length; i++) {
        const r = records[i];
        let c: StoredContent | undefined;
        if (r === undefined) {
          this.log.warn(`store: message ${ids[i]} of a queue is missing or unreadable; its entry is skipped`, {
            key: messageKey(ids[i]!).toString('hex'),
          });
        } else {
          try {
            c = { exchange: r.exchange, routingKey: r.routingKey, properties: this.properties(r.properties), body: r.body };
          } catch (err) {
            corrupt({ kind: 'message', key: messageKey(r.id), reason: `properties: ${(err as Error).message}` });
          }
        }
        content.push(c);
      }
      done(null, content);
    }, (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!this.closing) this.log.error(`store: reading messages back failed: ${error.message}`);
      done(error, []);
    });
  }

  // ------------------------------------------------------------------ VhostPersistence: topology

  exchangeDeclared(exchange: Exchange): void {
    this.store.putExchange({
      vhost: exchange.vhostName, name: exchange.name, type: exchange.type,
      autoDelete: exchange.autoDelete, internal: exchange.internal, arguments: exchange.arguments,
    });
  }

  /**
   * The exchange's bindings go with it (RabbitMQ deletes them in the same transaction). The model
   * reports bindings it removes separately too; deleting a record twice is harmless.
   */
  exchangeDeleted(exchange: Exchange): void {
    for (const b of exchange.outbound.values()) {
      if ((b.destination as Queue | Exchange).durable) this.store.deleteBinding(bindingRecord(b));
    }
    this.store.deleteExchange(exchange.vhostName, exchange.name);
  }

  queueDeclared(queue: Queue): void {
    // A new id per declaration: entries of an earlier queue with the same name can never attach to it.
    const id = this.nextQueueId++;
    this.queueIds.set(queue, id);
    this.store.putQueue({ vhost: queue.host.name, name: queue.name, id, autoDelete: queue.autoDelete, arguments: queue.arguments });
  }

  queueDeleted(queue: Queue): void {
    this.store.deleteQueue(queue.host.name, queue.name);
  }

  bindingAdded(binding: Binding): void {
    this.store.putBinding(bindingRecord(binding));
  }

  bindingRemoved(binding: Binding): void {
    this.store.deleteBinding(bindingRecord(binding));
  }

  // ------------------------------------------------------------------ VhostPersistence: messages (hot path)

  /** A persistent message entered a durable queue (the model checks both). */
  messageEnqueued(queue: Queue, entry: QueueEntry): void {
    const queueId = this.queueIds.get(queue);
    if (queueId === undefined) return; // declared before persistence was attached: never stored
    const m = entry.message;
    if (m.storeId === 0) {
      // A message is stored when it is published (or dead-lettered): it is resident then.
      m.storeId = this.nextMessageId++;
      this.store.addMessage(m.storeId, m.exchange, m.routingKey, m.properties!.raw, m.body!);
      // After addMessage: a page-out this schedules relies on the record being in that commit.
      this.budget?.add(m.size);
    }
    m.storeRefs++;
    this.store.addEntry(queueId, entry.seq, m.storeId, entry.expiresAt, m.size, m.priority, m.shared);
  }

  /** An entry left its queue for good (acked, rejected, expired, purged, deleted with the queue). */
  messageSettled(queue: Queue, entry: QueueEntry): void {
    // The model calls this for any settled entry of a stored message, also in non-durable queues.
    if (!queue.durable) return;
    const queueId = this.queueIds.get(queue);
    if (queueId === undefined) return;
    const m = entry.message;
    if (m.storeId === 0) return;
    this.store.deleteEntry(queueId, entry.seq);
    if (--m.storeRefs <= 0) {
      this.store.deleteMessage(m.storeId);
      if (m.body !== null) this.budget?.remove(m.size);
      m.storeRefs = 0;
      // Should the same message enter another durable queue later in this publish (a no-ack consumer can
      // settle it mid-fan-out), it is written afresh rather than referencing a deleted record.
      m.storeId = 0;
    }
  }

  /**
   * A stored entry was delivered for the first time to a consumer that must ack it (hook requested from
   * the model: VhostPersistence.messageDelivered, called from QueueHost when entry.deliveries becomes 1
   * and the delivery is not no-ack). Its record is rewritten with the delivered flag in the same group
   * commit, so a restart sets redelivered on it and only on it.
   */
  messageDelivered(queue: Queue, entry: QueueEntry): void {
    if (!queue.durable) return;
    const m = entry.message;
    if (m.storeId === 0) return;
    const queueId = this.queueIds.get(queue);
    if (queueId === undefined) return;
    this.store.markDelivered(queueId, entry.seq, m.storeId, entry.expiresAt, m.size, m.priority, m.shared);
  }

  // ------------------------------------------------------------------ recovery

  /**
   * Rebuild the broker from the store: topology first (through the vhost's own declare/bind methods with
   * loading=true), then each durable queue's entries in seq order, then orphans are removed and expired
   * heads dropped. Attaches this persistence to every vhost. Call before the listener accepts connections.
   */
  async recover(broker: Broker): Promise<RecoveryStats> {
    const started = Date.now();
    const stats: RecoveryStats = {
      exchanges: 0, queues: 0, bindings: 0, entries: 0, messages: 0, redelivered: 0, paged: 0, corrupt: 0, refused: 0,
      orphanBindings: 0, orphanEntries: 0, danglingEntries: 0, orphanMessages: 0, keptLeftovers: 0, elapsedMs: 0,
    };
    /** Whether leftovers may be deleted: nothing so far was corrupt or refused. */
    const clean = (): boolean => stats.corrupt === 0 && stats.refused === 0;
    const store = this.store;
    const corrupt = (c: CorruptRecord): void => {
      stats.corrupt++;
      this.log.warn(`store: skipping ${c.kind} record that cannot be decoded: ${c.reason}`, { key: c.key.toString('hex') });
    };
    const refused = (kind: string, key: Buffer, err: unknown): void => {
      stats.refused++;
      this.log.warn(`store: skipping ${kind} record the broker refused: ${(err as Error).message}`, { key: key.toString('hex') });
    };

    const ids = await store.highestIds();
    this.nextMessageId = Math.max(this.nextMessageId, ids.message + 1);
    this.nextQueueId = Math.max(this.nextQueueId, ids.queue + 1);

    // Every vhost, present and created later, writes through this persistence.
    broker.persistence = this;
    const vhostNamed = (name: string): VirtualHost => broker.addVhost(name);

    await store.readExchanges((r) => {
      try {
        vhostNamed(r.vhost).declareExchange({
          exchange: r.name, type: r.type, passive: false, durable: true,
          autoDelete: r.autoDelete, internal: r.internal, arguments: r.arguments,
        }, true);
        stats.exchanges++;
      } catch (err) {
        refused('exchange', entityKey(KeyPrefix.Exchange, r.vhost, r.name), err);
      }
    }, corrupt);

    const queuesById = new Map<number, Queue>();
    await store.readQueues((r) => {
      try {
        const { queue, created } = vhostNamed(r.vhost).declareQueue({
          queue: r.name, passive: false, durable: true, exclusive: false, autoDelete: r.autoDelete, arguments: r.arguments,
        }, null, true);
        if (!created) throw new Error(`queue '${r.name}' in vhost '${r.vhost}' recovered twice`);
        this.queueIds.set(queue, r.id);
        queuesById.set(r.id, queue);
        stats.queues++;
      } catch (err) {
        refused('queue', entityKey(KeyPrefix.Queue, r.vhost, r.name), err);
      }
    }, corrupt);

    // A binding whose ends are gone is a leftover of a deletion the broker did not finish writing.
    const deleteOrphanBindings = clean();
    await store.readBindings((r) => {
      const existing = broker.vhost(r.vhost);
      const ends = existing !== undefined && existing.exchanges.has(r.source)
        && (r.destinationKind === 'queue' ? existing.queues.has(r.destination) : existing.exchanges.has(r.destination));
      if (!ends && deleteOrphanBindings) {
        store.deleteBinding(r);
        stats.orphanBindings++;
        return;
      }
      try {
        const vhost = vhostNamed(r.vhost);
        if (r.destinationKind === 'queue') {
          vhost.bindQueue({ queue: r.destination, exchange: r.source, routingKey: r.routingKey, arguments: r.arguments }, null, true);
        } else {
          vhost.bindExchange({ destination: r.destination, source: r.source, routingKey: r.routingKey, arguments: r.arguments }, true);
        }
        stats.bindings++;
      } catch (err) {
        refused('binding', bindingKey(r), err);
      }
    }, corrupt);

    // Entries, queue by queue in seq order. A queue keeps its first entries resident, as far as its
    // read-ahead window and the memory budget allow; the rest come back paged out, known by their entry
    // record alone. Message records are read only for the resident ones, a batch at a time, before the
    // entries holding them are handed over (so a queue gets its entries in order, resident ones first).
    // Without paging (memory store, priority queues), and for messages shared by several queues (never
    // paged out), every message is read.
    const budget = this.budget;
    /** Messages routed to several queues, by id: one object for all their entries. */
    const shared = new Map<number, Message>();
    const referenced = new IdList();
    let queueId = -1;
    let queue: Queue | undefined;
    /** The current queue has entries paged out: every later one of it is too. */
    let queuePaging = false;
    let windowCount = 0;
    let windowBytes = 0;
    let chunk: QueueEntry[] = [];
    let toLoad: Message[] = [];
    let loadBytes = 0;

    const dangling = (queueIdOf: number, entry: QueueEntry): void => {
      this.log.warn(`store: entry refers to message ${entry.message.storeId}, which is missing or unreadable`, {
        key: entryKey(queueIdOf, entry.seq).toString('hex'),
      });
      // Not an orphan for the message scan: the record (if any) is damaged, not unreferenced.
      referenced.push(entry.message.storeId);
      if (clean()) {
        store.deleteEntry(queueIdOf, entry.seq);
        stats.danglingEntries++;
      } else {
        stats.keptLeftovers++;
      }
    };

    /** Give the chunk to its queue, reading the messages it keeps resident first. */
    const handOver = (): void | Promise<void> => {
      if (toLoad.length === 0) return giveChunk(null);
      const loading = toLoad;
      toLoad = [];
      loadBytes = 0;
      return store.loadMessages(loading.map((m) => m.storeId), corrupt).then((records) => {
        let failed: Set<Message> | null = null;
        for (let i = 0; i < loading.length; i++) {
          const m = loading[i]!;
          const r = records[i];
          if (m.body !== null) continue; // a shared message listed twice
          let properties: MessageProperties | undefined;
          if (r !== undefined) {
            try {
              properties = this.properties(r.properties);
            } catch (err) {
              corrupt({ kind: 'message', key: messageKey(r.id), reason: `properties: ${(err as Error).message}` });
            }
          }
          if (r === undefined || properties === undefined) {
            (failed ??= new Set()).add(m);
            continue;
          }
          m.pageIn(r.exchange, r.routingKey, properties, r.body);
          budget?.recovered(m.size);
        }
        giveChunk(failed);
      });
    };

    const giveChunk = (failed: Set<Message> | null): void => {
      const q = queue;
      const id = queueId;
      let entries = chunk;
      chunk = [];
      if (q === undefined || entries.length === 0) return;
      if (failed !== null) {
        entries = entries.filter((e) => {
          if (!failed.has(e.message)) return true;
          dangling(id, e);
          return false;
        });
      }
      for (const e of entries) {
        const m = e.message;
        if (m.storeRefs++ === 0) stats.messages++;
        if (m.body === null) stats.paged++;
        if (e.redelivered) stats.redelivered++;
        stats.entries++;
        referenced.push(m.storeId);
      }
      q.recover(entries);
    };

    const visitEntry = (r: EntryRecord): void | Promise<void> => {
      if (r.queueId !== queueId) {
        queueId = r.queueId;
        queue = queuesById.get(queueId);
        queuePaging = false;
        windowCount = 0;
        windowBytes = 0;
      }
      if (queue === undefined) {
        if (clean()) {
          store.deleteEntry(r.queueId, r.seq);
          stats.orphanEntries++;
        } else {
          stats.keptLeftovers++;
        }
        return;
      }
      let m: Message | undefined;
      if (r.shared) {
        m = shared.get(r.messageId);
        if (m === undefined) {
          m = Message.paged(r.messageId, r.size, r.priority);
          m.markShared();
          shared.set(r.messageId, m);
        }
      } else {
        m = Message.paged(r.messageId, r.size, r.priority);
      }
      let resident = budget === null || !queue.pages || r.shared;
      if (!resident && !queuePaging) {
        resident = windowCount < READ_AHEAD_ENTRIES && windowBytes + r.size <= budget!.windowBytes
          && budget!.residentBytes + loadBytes + r.size <= budget!.limit;
        if (resident) {
          windowCount++;
          windowBytes += r.size;
        } else {
          queuePaging = true;
        }
      }
      if (resident && m.body === null) {
        toLoad.push(m);
        loadBytes += r.size;
      }
      const entry = new QueueEntry(m, r.seq, r.expiresAt);
      if (r.delivered) {
        entry.redelivered = true;
        entry.deliveries = 1;
      }
      chunk.push(entry);
      if (chunk.length >= RECOVER_CHUNK || toLoad.length >= LOAD_BATCH) return handOver();
    };

    await store.readEntries((r) => {
      // The previous queue's last chunk goes first (its reads may have to finish).
      if (r.queueId !== queueId && chunk.length > 0) {
        const pending = handOver();
        if (pending !== undefined) return pending.then(() => visitEntry(r));
      }
      return visitEntry(r);
    }, corrupt);
    await handOver();
    shared.clear();

    // Message records nothing references are found by removeOrphanMessages, after startup.
    this.orphanScan = { referenced: referenced.sorted(), highestId: ids.message, stats };
    await store.flush();

    // Only now, with every queue holding its entries, may expiry dead-letter into other queues.
    for (const q of queuesById.values()) if (q.messageCount > 0) q.expireHead();

    stats.elapsedMs = Date.now() - started;
    this.recoveryStats = stats;
    // One startup line is the CLI's; an empty store has nothing worth a second one.
    this.log.log(stats.exchanges + stats.queues + stats.entries > 0 ? 'info' : 'debug',
      `recovered ${stats.exchanges} exchanges, ${stats.queues} queues, ${stats.bindings} bindings and `
      + `${stats.messages} messages (${stats.entries} queue entries, ${stats.redelivered} redelivered, `
      + `${stats.paged} left on disk until needed) from ${store.location} in ${stats.elapsedMs} ms`,
    );
    const { corrupt: c, refused: f, orphanBindings, orphanEntries, danglingEntries, orphanMessages, keptLeftovers } = stats;
    if (c + f + orphanBindings + orphanEntries + danglingEntries + orphanMessages + keptLeftovers > 0) {
      this.log.warn('store: recovery skipped or removed records', {
        corrupt: c, refused: f, orphanBindings, orphanEntries, danglingEntries, orphanMessages, keptLeftovers,
      });
    }
    return stats;
  }

  /**
   * Delete message records that no recovered entry references: leftovers of a crash between deleting a
   * queue's entries and their messages. It reads every message key (not the values), which with a large
   * backlog takes a while and is not needed to serve, so it runs after the listener is up (Warren.start)
   * and stops when the store closes. Safe alongside live traffic: messages stored after startup have ids
   * above every id it considers, and a recovered message is referenced by the entry that brought it back.
   * Like the rest of recovery it deletes only when no record was corrupt or refused, counting otherwise.
   * Adds to the stats recover() returned; resolves once done (at once after the first call).
   */
  removeOrphanMessages(): Promise<void> {
    const scan = this.orphanScan;
    this.orphanScan = null;
    if (scan === null || this.closing) return Promise.resolve();
    const running = this.scanOrphans(scan).catch((err: unknown) => {
      if (!(err instanceof ScanStopped)) this.log.error(`store: orphan message scan failed: ${(err as Error).message}`);
    });
    this.orphanScanRunning = running;
    return running;
  }

  private async scanOrphans({ referenced, highestId, stats }: OrphanScan): Promise<void> {
    const before = { orphanMessages: stats.orphanMessages, keptLeftovers: stats.keptLeftovers, corrupt: stats.corrupt };
    let k = 0;
    await this.store.readMessageIds((id) => {
      if (this.closing) throw new ScanStopped();
      if (id > highestId) return;
      while (k < referenced.length && referenced[k]! < id) k++;
      if (k < referenced.length && referenced[k] === id) return;
      if (stats.corrupt === 0 && stats.refused === 0) {
        this.store.deleteMessage(id);
        stats.orphanMessages++;
      } else {
        stats.keptLeftovers++;
      }
    }, (c) => {
      stats.corrupt++;
      this.log.warn(`store: skipping ${c.kind} record that cannot be decoded: ${c.reason}`, { key: c.key.toString('hex') });
    });
    await this.store.flush();
    const orphanMessages = stats.orphanMessages - before.orphanMessages;
    const keptLeftovers = stats.keptLeftovers - before.keptLeftovers;
    if (orphanMessages + keptLeftovers + stats.corrupt - before.corrupt > 0) {
      this.log.warn('store: message records no queue entry references', { orphanMessages, keptLeftovers });
    }
  }
}

/** A growable list of message ids (8 bytes each: a backlog of millions stays a few MB). */
class IdList {
  private ids = new Float64Array(1024);
  private count = 0;

  push(id: number): void {
    if (this.count === this.ids.length) {
      const next = new Float64Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[this.count++] = id;
  }

  /** The ids, ascending (a copy at the exact size; typed arrays sort numerically). */
  sorted(): Float64Array {
    return this.ids.slice(0, this.count).sort();
  }
}

function bindingRecord(binding: Binding): BindingRecord {
  const destination = binding.destination as Queue | Exchange;
  return {
    vhost: destination.kind === 'queue' ? destination.host.name : destination.vhostName,
    source: binding.source,
    destinationKind: destination.kind,
    destination: destination.name,
    routingKey: binding.routingKey,
    arguments: binding.arguments,
  };
}
