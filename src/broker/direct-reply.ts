/**
 * RabbitMQ's direct reply-to: a consumer on the pseudo-queue `amq.rabbitmq.reply-to` (no-ack only)
 * receives whatever is published to the default exchange with the routing key its requests carried in
 * `reply-to` (`amq.rabbitmq.reply-to.<key>`), without a real queue in between.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from './message.js';

export const DIRECT_REPLY_QUEUE = 'amq.rabbitmq.reply-to';
const PREFIX = `${DIRECT_REPLY_QUEUE}.`;

/** A channel's reply consumer, as the vhost sees it. */
export interface DirectReplyTarget {
  /** Deliver a reply; false when the consumer is gone (the reply is then unroutable). */
  deliverReply(message: Message): boolean;
}

export class DirectReplyRegistry {
  private readonly targets = new Map<string, DirectReplyTarget>();

  /** Register a reply consumer; returns the routing key requests must carry in their reply-to. */
  register(target: DirectReplyTarget): string {
    const key = PREFIX + randomBytes(18).toString('base64url');
    this.targets.set(key, target);
    return key;
  }

  unregister(key: string): void {
    this.targets.delete(key);
  }

  static isReplyKey(routingKey: string): boolean {
    return routingKey.startsWith(PREFIX);
  }

  /** Route a reply published to the default exchange; false when nobody waits for it. */
  deliver(routingKey: string, message: Message): boolean {
    const target = this.targets.get(routingKey);
    return target !== undefined && target.deliverReply(message);
  }
}
