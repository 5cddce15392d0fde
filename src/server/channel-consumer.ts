/**
 * A basic.consume subscription: the broker-side Consumer that a queue delivers to, owned by a channel.
 */
import type { Consumer } from '../broker/consumer.js';
import type { QueueEntry } from '../broker/message.js';
import type { Queue } from '../broker/queue.js';
import type { FieldTable } from '../types/field-table.js';
import type { Channel } from './channel.js';

export class ChannelConsumer implements Consumer {
  /** Deliveries to this consumer not yet acked (counts against its own prefetch). */
  unacked = 0;

  constructor(
    readonly channel: Channel,
    readonly queue: Queue,
    readonly tag: string,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    args: FieldTable,
    readonly priority: number,
    /** basic.qos prefetch-count with global=false at the time of consuming; 0 = unlimited. */
    readonly prefetch: number,
  ) {
    this.arguments = args;
  }

  readonly arguments: FieldTable;

  canTake(): boolean {
    const ch = this.channel;
    if (!ch.deliveryAllowed()) return false;
    if (this.noAck) return true;
    return (this.prefetch === 0 || this.unacked < this.prefetch) && ch.channelCreditLeft();
  }

  deliver(queue: Queue, entry: QueueEntry): void {
    this.channel.deliver(this, queue, entry);
  }

  cancelledByBroker(queue: Queue): void {
    this.channel.consumerCancelledByBroker(this, queue);
  }
}
