/**
 * RabbitMQ's shortcuts for an empty queue name (AMQP 0-9-1 §1.7.2 "default queue"): `''` means the
 * queue most recently declared on this channel, and an empty routing key with it means that queue's name.
 */
import { notFound } from '../../errors.js';
import type { Channel } from '../channel.js';

export function expandQueueName(ch: Channel, name: string): string {
  if (name !== '') return name;
  if (ch.lastQueue === '') throw notFound('no previously declared queue');
  return ch.lastQueue;
}

export function expandRoutingKey(ch: Channel, queueName: string, routingKey: string): string {
  return queueName === '' && routingKey === '' ? ch.lastQueue : routingKey;
}

/**
 * rabbit_channel:strip_cr_lf/1: declare, delete and bind take entity names with CR and LF removed
 * (publish, consume, get and purge use names as sent).
 */
export function stripCrLf(name: string): string {
  return name.includes('\r') || name.includes('\n') ? name.replace(/[\r\n]/g, '') : name;
}
