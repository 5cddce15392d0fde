/**
 * What a queue needs from a consumer. Implemented by the server's channel, which owns delivery tags,
 * prefetch credit and the socket; the queue only chooses who gets the next message.
 */
import type { Queue } from './queue.js';
import type { QueueEntry } from './message.js';
import type { FieldTable } from '../types/field-table.js';

export interface Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly arguments: FieldTable;
  /** Consumer priority (the `x-priority` consume argument, default 0). */
  readonly priority: number;
  /** Whether one more delivery may be sent now: prefetch credit, a writable socket, channel flow. */
  canTake(): boolean;
  /** Hand over one entry. For a no-ack consumer the queue has already settled it. */
  deliver(queue: Queue, entry: QueueEntry): void;
  /** The queue was deleted under the consumer (RabbitMQ's consumer cancel notification). */
  cancelledByBroker(queue: Queue): void;
}

/** Opaque identity of the connection that owns an exclusive queue. */
export type ConnectionOwner = object;
