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
 * its entries in seq order. Records that cannot be decoded are logged with their key, skipped and
 * counted; so are records the model refuses. Leftovers of interrupted deletions (bindings whose ends are
 * gone, entries of deleted queues, messages no entry references) are deleted, but only when every
 * record decoded and was accepted: otherwise they might belong to the damaged record, and stay.
 * Durable auto-delete queues come back, as in RabbitMQ: they go once a consumer has come and gone.
 * Exclusive queues are never durable here (rabbit_channel), so they never come back.
 */
import type { Logger } from 'winston';
import type { Broker } from '../broker/broker.js';
import type { Binding } from '../broker/binding.js';
import type { Exchange } from '../broker/exchange.js';
import { Message, type MessageProperties, QueueEntry } from '../broker/message.js';
import type { Queue } from '../broker/queue.js';
import type { VhostPersistence, VirtualHost } from '../broker/vhost.js';
import { bindingKey, entityKey, entryKey, KeyPrefix, messageKey } from './keys.js';
import type { BindingRecord, CommitCallback, CorruptRecord, Store } from './store.js';

export interface PersistenceOptions {
  readonly store: Store;
  readonly log: Logger;
  /** Rebuild a stored message's properties from its raw property list (the server's ContentProperties). */
  readonly properties: (raw: Buffer) => MessageProperties;
  /** Store backlog (bytes queued or being written) above which publishers should be paused. */
  readonly highWaterBytes?: number;
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
  /** Messages no entry referenced, deleted. */
  orphanMessages: number;
  /** Leftovers kept because some record was corrupt or refused (they may belong to it). */
  keptLeftovers: number;
  elapsedMs: number;
}

/** Default backlog at which publishers are paused: enough for a few batches of large messages. */
export const DEFAULT_HIGH_WATER_BYTES = 64 * 1024 * 1024;

/** Recovered entries are handed to a queue in chunks, so no array holds a whole large queue. */
const RECOVER_CHUNK = 4096;


export class Persistence implements VhostPersistence {
  readonly store: Store;
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

  constructor(options: PersistenceOptions) {
    this.store = options.store;
    this.log = options.log;
    this.properties = options.properties;
    this.highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
  }


  /** True while the store is behind: the server stops reading from publishers until afterCommit. */
  get overloaded(): boolean {
    return this.store.backlogBytes > this.highWaterBytes;
  }

  /** Run `callback` once every write made so far is durable (publisher confirms, tx.commit-ok). */
  afterCommit(callback: CommitCallback): void {
    this.store.afterCommit(callback);
  }

  /** Write everything pending and release the store. */
  close(): Promise<void> {
    return this.store.close();
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
      m.storeId = this.nextMessageId++;
      this.store.addMessage(m.storeId, m.exchange, m.routingKey, m.properties.raw, m.body);
    }
    m.storeRefs++;
    this.store.addEntry(queueId, entry.seq, m.storeId, entry.expiresAt);
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
    this.store.markDelivered(queueId, entry.seq, m.storeId, entry.expiresAt);
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
      exchanges: 0, queues: 0, bindings: 0, entries: 0, messages: 0, redelivered: 0, corrupt: 0, refused: 0,
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

    // Messages are read in one pass (they are all held in memory once recovered anyway), then entries
    // in (queue, seq) order pick them up.
    const messages = new Map<number, Message>();
    await store.readMessages((r) => {
      let properties: MessageProperties;
      try {
        properties = this.properties(r.properties);
      } catch (err) {
        corrupt({ kind: 'message', key: messageKey(r.id), reason: `properties: ${(err as Error).message}` });
        return;
      }
      const m = new Message(r.exchange, r.routingKey, properties, r.body);
      m.storeId = r.id;
      messages.set(r.id, m);
    }, corrupt);

    const deleteLeftovers = clean();
    let queueId = -1;
    let queue: Queue | undefined;
    let chunk: QueueEntry[] = [];
    const handOver = (): void => {
      if (queue !== undefined && chunk.length > 0) queue.recover(chunk);
      chunk = [];
    };
    await store.readEntries((r) => {
      if (r.queueId !== queueId) {
        handOver();
        queueId = r.queueId;
        queue = queuesById.get(queueId);
      }
      if (queue === undefined) {
        if (deleteLeftovers) {
          store.deleteEntry(r.queueId, r.seq);
          stats.orphanEntries++;
        } else {
          stats.keptLeftovers++;
        }
        return;
      }
      const m = messages.get(r.messageId);
      if (m === undefined) {
        this.log.warn(`store: entry refers to message ${r.messageId}, which is missing or unreadable`, {
          key: entryKey(r.queueId, r.seq).toString('hex'),
        });
        if (deleteLeftovers) {
          store.deleteEntry(r.queueId, r.seq);
          stats.danglingEntries++;
        } else {
          stats.keptLeftovers++;
        }
        return;
      }
      const entry = new QueueEntry(m, r.seq, r.expiresAt);
      if (r.delivered) {
        entry.redelivered = true;
        entry.deliveries = 1;
        stats.redelivered++;
      }
      if (m.storeRefs === 0) stats.messages++;
      m.storeRefs++;
      stats.entries++;
      chunk.push(entry);
      if (chunk.length >= RECOVER_CHUNK) handOver();
    }, corrupt);
    handOver();

    const deleteOrphanMessages = clean();
    for (const m of messages.values()) {
      if (m.storeRefs !== 0) continue;
      if (deleteOrphanMessages) {
        store.deleteMessage(m.storeId);
        stats.orphanMessages++;
      } else {
        stats.keptLeftovers++;
      }
      m.storeId = 0;
    }
    await store.flush();

    // Only now, with every queue holding its entries, may expiry dead-letter into other queues.
    for (const q of queuesById.values()) if (q.messageCount > 0) q.expireHead();

    stats.elapsedMs = Date.now() - started;
    this.log.info(
      `recovered ${stats.exchanges} exchanges, ${stats.queues} queues, ${stats.bindings} bindings and `
      + `${stats.messages} messages (${stats.entries} queue entries, ${stats.redelivered} redelivered) `
      + `from ${store.location} in ${stats.elapsedMs} ms`,
    );
    const { corrupt: c, refused: f, orphanBindings, orphanEntries, danglingEntries, orphanMessages, keptLeftovers } = stats;
    if (c + f + orphanBindings + orphanEntries + danglingEntries + orphanMessages + keptLeftovers > 0) {
      this.log.warn('store: recovery skipped or removed records', {
        corrupt: c, refused: f, orphanBindings, orphanEntries, danglingEntries, orphanMessages, keptLeftovers,
      });
    }
    return stats;
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
