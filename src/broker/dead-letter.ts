/**
 * Dead-lettering as RabbitMQ 3.10 does it (rabbit_dead_letter): the republished message carries an
 * `x-death` array (newest first, one entry per queue and reason, with a count), the `x-first-death-*`
 * headers, and loses its per-message expiration (kept as `original-expiration`).
 */
import { type FieldTable, type FieldValue, field, fieldString } from '../types/field-table.js';
import type { Message, MessageProperties } from './message.js';
import type { DeadLetterReason } from './queue.js';

export function deadLetterProperties(message: Message, queueName: string, reason: DeadLetterReason): MessageProperties {
  // Queues dead-letter resident messages only (a paged-out one is read back first).
  const props = message.properties!;
  const headers = new Map(props.headers ?? []);
  const deaths: FieldValue[] = [];
  const previous = headers.get('x-death');
  let count = 1n;
  if (previous !== undefined && previous.type === 'A') {
    for (const d of previous.value) {
      if (d.type === 'F' && fieldString(d.value.get('queue')) === queueName && fieldString(d.value.get('reason')) === reason) {
        const c = d.value.get('count');
        if (c !== undefined && c.type === 'l') count = c.value + 1n;
        continue; // replaced by the new entry at the front
      }
      deaths.push(d);
    }
  }
  const entry = new Map<string, FieldValue>([
    ['count', field.long(count)],
    ['reason', field.str(reason)],
    ['queue', field.str(queueName)],
    ['time', field.timestamp(Math.floor(Date.now() / 1000))],
    ['exchange', field.str(message.exchange)],
    ['routing-keys', field.array([field.str(message.routingKey)])],
  ]);
  if (props.expiration !== undefined) entry.set('original-expiration', field.str(props.expiration));
  deaths.unshift(field.table(entry));
  headers.set('x-death', field.array(deaths));
  if (!headers.has('x-first-death-reason')) {
    headers.set('x-first-death-exchange', field.str(message.exchange));
    headers.set('x-first-death-queue', field.str(queueName));
    headers.set('x-first-death-reason', field.str(reason));
  }
  return props.withHeaders(headers, props.expiration !== undefined);
}

/**
 * rabbit_dead_letter:is_cycle/2: a message that would return to a queue it already died in, with no
 * rejection on the way (only expiries or length limits), is dropped instead of looping for ever.
 */
export function isDeadLetterCycle(props: MessageProperties, queueName: string): boolean {
  const xDeath = props.headers?.get('x-death');
  if (xDeath === undefined || xDeath.type !== 'A') return false;
  for (const d of xDeath.value) {
    if (d.type !== 'F') continue;
    const t: FieldTable = d.value;
    if (fieldString(t.get('reason')) === 'rejected') return false;
    if (fieldString(t.get('queue')) === queueName) return true;
  }
  return false;
}
