/**
 * A published message as the broker sees it: where it was published, its properties, its body.
 * The broker never parses bytes: `MessageProperties` is implemented by the server layer, which keeps the
 * raw encoded property list and decodes only the fields the broker asks for.
 *
 * A stored message may be paged out (lazy queues, RabbitMQ's classic-queue v2 behaviour): its body and
 * properties are dropped from memory and read back from the store ahead of delivery. A paged-out message
 * keeps what the queue needs without its content: store id, body size, priority. Only queues page
 * messages out, and only ready ones, so whatever delivers, fetches or dead-letters a message sees it
 * resident (see Queue).
 */
import type { FieldTable } from '../types/field-table.js';

export interface MessageProperties {
  /** The encoded property flags and values, re-emitted verbatim on delivery. */
  readonly raw: Buffer;
  readonly deliveryMode: number | undefined;
  readonly expiration: string | undefined;
  readonly priority: number | undefined;
  readonly userId: string | undefined;
  readonly headers: FieldTable | undefined;
  /**
   * The same properties with headers replaced and, if asked, the expiration removed (dead-lettering adds
   * x-death and drops the per-message TTL, which it records as original-expiration).
   */
  withHeaders(headers: FieldTable, dropExpiration: boolean): MessageProperties;
}

/** Message.bits: priority in the low octet, then two flags. One field rather than three (millions of stubs). */
const PRIORITY_MASK = 0xff;
const PERSISTENT = 0x100;
const SHARED = 0x200;

export class Message {
  /** Store-assigned id once written to disk; 0 while transient or not yet written. */
  storeId = 0;
  /** How many durable queues still hold this stored message; the record is deleted when it reaches 0. */
  storeRefs = 0;
  /** Mutable only for paging: a paged-out stub carries '' until read back. */
  exchange: string;
  routingKey: string;
  /** null while paged out (the store has them). */
  properties: MessageProperties | null;
  body: Buffer | null;
  /** Body length in bytes, kept while paged out (x-max-length-bytes, the memory budget). */
  readonly size: number;
  private bits: number;

  constructor(exchange: string, routingKey: string, properties: MessageProperties, body: Buffer);
  /** A paged-out stub: use Message.paged. */
  constructor(exchange: string, routingKey: string, properties: null, body: null, size: number, bits: number);
  constructor(
    exchange: string,
    routingKey: string,
    properties: MessageProperties | null,
    body: Buffer | null,
    size = 0,
    bits = 0,
  ) {
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.properties = properties;
    this.body = body;
    if (properties !== null && body !== null) {
      this.size = body.length;
      // An octet on the wire; ready lists clamp it to the queue's x-max-priority.
      this.bits = ((properties.priority ?? 0) & PRIORITY_MASK) | (properties.deliveryMode === 2 ? PERSISTENT : 0);
    } else {
      this.size = size;
      this.bits = bits;
    }
  }

  /**
   * A stored message known only by its queue entry (recovery with a large backlog): persistent, with
   * the body size and priority the entry record carries; the content is read back before delivery.
   */
  static paged(storeId: number, size: number, priority: number): Message {
    const m = new Message('', '', null, null, size, (priority & PRIORITY_MASK) | PERSISTENT);
    m.storeId = storeId;
    return m;
  }

  /** delivery-mode 2. */
  get persistent(): boolean {
    return (this.bits & PERSISTENT) !== 0;
  }

  /** The priority property, 0 when absent. */
  get priority(): number {
    return this.bits & PRIORITY_MASK;
  }

  /**
   * Routed to more than one queue (fan-out): other queues, or their consumers, may hold it, so no queue
   * may page it out. Set by routing before the message is enqueued anywhere.
   */
  get shared(): boolean {
    return (this.bits & SHARED) !== 0;
  }

  markShared(): void {
    this.bits |= SHARED;
  }

  /** Body and properties in memory. */
  get resident(): boolean {
    return this.body !== null;
  }

  /** Drop the content from memory: the store holds it (the caller made sure the record is written). */
  pageOut(): void {
    this.exchange = '';
    this.routingKey = '';
    this.properties = null;
    this.body = null;
  }

  /** The content read back from the store. */
  pageIn(exchange: string, routingKey: string, properties: MessageProperties, body: Buffer): void {
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.properties = properties;
    this.body = body;
  }
}

/** One message's place in one queue. */
export class QueueEntry {
  /** Times this entry has been delivered; redelivered is set on every delivery after the first. */
  deliveries = 0;
  /** Set when the entry comes back (nack/reject requeue, recover, channel close) after a delivery. */
  redelivered = false;

  constructor(
    readonly message: Message,
    /** Position in the queue: requeued entries go back to their original position (RabbitMQ ≥ 2.7). */
    readonly seq: number,
    /** Absolute expiry time in ms since the epoch, or 0 for none. */
    readonly expiresAt: number,
  ) {}
}
