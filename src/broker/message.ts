/**
 * A published message as the broker sees it: where it was published, its properties, its body.
 * The broker never parses bytes: `MessageProperties` is implemented by the server layer, which keeps the
 * raw encoded property list and decodes only the fields the broker asks for.
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

export class Message {
  /** Store-assigned id once written to disk; 0 while transient or not yet written. */
  storeId = 0;
  /** How many durable queues still hold this stored message; the record is deleted when it reaches 0. */
  storeRefs = 0;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly properties: MessageProperties,
    readonly body: Buffer,
  ) {}

  get persistent(): boolean {
    return this.properties.deliveryMode === 2;
  }

  get size(): number {
    return this.body.length;
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
