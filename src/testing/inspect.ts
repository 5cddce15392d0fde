/**
 * Read-only snapshots of the broker model for test assertions: plain frozen objects, never the live
 * Queue/Exchange, so a test can neither mutate the broker nor see a value change under it. Field
 * tables become plain values the way amqplib decodes them, so `deep.equal` against what a client sent works.
 */
import type { Binding } from '../broker/binding.js';
import type { Exchange } from '../broker/exchange.js';
import type { Queue } from '../broker/queue.js';
import type { FieldTable, FieldValue } from '../types/field-table.js';

/** A plain value of a field table entry. */
export type PlainFieldValue =
  | boolean | number | bigint | string | Buffer | null
  | { readonly scale: number; readonly value: number }
  | readonly PlainFieldValue[]
  | { readonly [key: string]: PlainFieldValue };

export type PlainTable = Readonly<Record<string, PlainFieldValue>>;

export interface QueueInfo {
  readonly vhost: string;
  readonly name: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: PlainTable;
  /** Ready messages: what queue.declare-ok's message-count (amqplib's checkQueue) reports. */
  readonly messageCount: number;
  /** Delivered to a consumer or basic.get and not yet acknowledged. */
  readonly unackedCount: number;
  readonly consumerCount: number;
}

export interface ExchangeInfo {
  readonly vhost: string;
  /** '' is the default exchange. */
  readonly name: string;
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: PlainTable;
  /** One of the exchanges every vhost has ('' and amq.*): reset() keeps these. */
  readonly builtin: boolean;
}

export interface BindingInfo {
  readonly vhost: string;
  /** Source exchange name. */
  readonly source: string;
  readonly destination: string;
  readonly destinationType: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: PlainTable;
}

/** The default exchange and the amq.* set: clients can neither create nor delete these names. */
export function isBuiltinExchange(name: string): boolean {
  return name === '' || name.startsWith('amq.');
}

export function queueInfo(vhost: string, q: Queue): QueueInfo {
  return Object.freeze({
    vhost,
    name: q.name,
    durable: q.durable,
    exclusive: q.exclusiveOwner !== null,
    autoDelete: q.autoDelete,
    arguments: plainTable(q.arguments),
    messageCount: q.messageCount,
    unackedCount: q.unackedCount,
    consumerCount: q.consumerCount,
  });
}

export function exchangeInfo(vhost: string, x: Exchange): ExchangeInfo {
  return Object.freeze({
    vhost,
    name: x.name,
    type: x.type,
    durable: x.durable,
    autoDelete: x.autoDelete,
    internal: x.internal,
    arguments: plainTable(x.arguments),
    builtin: isBuiltinExchange(x.name),
  });
}

export function bindingInfo(vhost: string, b: Binding): BindingInfo {
  return Object.freeze({
    vhost,
    source: b.source,
    destination: b.destination.name,
    destinationType: b.destination.kind,
    routingKey: b.routingKey,
    arguments: plainTable(b.arguments),
  });
}

/**
 * A field table as a plain object. Object.fromEntries defines own properties, so a `__proto__` key stays
 * a key and cannot change the prototype.
 */
export function plainTable(table: FieldTable): PlainTable {
  return Object.freeze(Object.fromEntries([...table].map(([k, v]) => [k, plainValue(v)])));
}

function plainValue(v: FieldValue): PlainFieldValue {
  switch (v.type) {
    case 'l': case 'T':
      // amqplib decodes 64-bit integers as numbers; keep a bigint only where a number would lose digits.
      return v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.value) : v.value;
    case 'S':
      return v.value.toString('utf8');
    case 'A':
      return Object.freeze(v.value.map(plainValue));
    case 'F':
      return plainTable(v.value);
    case 'D':
      return { scale: v.value.scale, value: v.value.value };
    default:
      return v.value;
  }
}
