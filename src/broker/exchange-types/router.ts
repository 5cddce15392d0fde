/**
 * The one interface behind which every exchange type keeps its bindings, in the index its routing
 * needs (hash for direct, list for fanout, trie for topic, compiled patterns for headers).
 * Semantics follow RabbitMQ 3.10's rabbit_exchange_type_{direct,fanout,topic,headers}.
 */
import type { FieldTable } from '../../types/field-table.js';
import type { Binding, BindingDestination } from '../binding.js';
import { DirectRouter } from './direct.js';
import { FanoutRouter } from './fanout.js';
import { HeadersRouter, validateHeadersBindingArguments } from './headers.js';
import { TopicRouter } from './topic.js';

/**
 * Receives the destinations of the bindings that match. A destination bound by several matching
 * bindings is pushed once per binding (RabbitMQ's routers also return duplicates): the caller
 * de-duplicates.
 */
export interface RouteCollector {
  push(destination: BindingDestination): void;
}

export interface ExchangeRouter {
  readonly bindingCount: number;
  /** The caller guarantees no binding with this identity is present yet. */
  add(b: Binding): void;
  /** The caller guarantees the binding is present (a missing one is ignored). */
  remove(b: Binding): void;
  /**
   * Push the destination of every matching binding. Publish hot path: allocation-free apart from
   * splitting a topic key; not re-entrant for the same router (nothing routes from inside push).
   */
  route(routingKey: string, headers: FieldTable | undefined, out: RouteCollector): void;
}

export type ExchangeTypeName = 'direct' | 'fanout' | 'topic' | 'headers';

export function isExchangeType(s: string): s is ExchangeTypeName {
  return s === 'direct' || s === 'fanout' || s === 'topic' || s === 'headers';
}

export function createRouter(type: ExchangeTypeName): ExchangeRouter {
  switch (type) {
    case 'direct': return new DirectRouter();
    case 'fanout': return new FanoutRouter();
    case 'topic': return new TopicRouter();
    case 'headers': return new HeadersRouter();
  }
}

/**
 * rabbit_exchange_type:validate_binding/2 of each type: only headers checks anything (x-match).
 * Throws AmqpError 406 as rabbit_channel does for {binding_invalid, Fmt, Args}.
 */
export function validateBindingArguments(type: ExchangeTypeName, args: FieldTable): void {
  if (type === 'headers') validateHeadersBindingArguments(args);
}
