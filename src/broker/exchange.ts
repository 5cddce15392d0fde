/**
 * An exchange: its declared properties and the router of its type, which holds the bindings in the
 * index that type routes by (hash for direct, trie for topic, ...).
 */
import type { FieldTable } from '../types/field-table.js';
import { fieldString } from '../types/field-table.js';
import type { Binding, BindingDestination } from './binding.js';
import { createRouter, type ExchangeRouter, type ExchangeTypeName } from './exchange-types/index.js';

export interface ExchangeOptions {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
}

export class Exchange implements BindingDestination {
  readonly kind = 'exchange' as const;
  /** Publish epoch in which this exchange was last visited; breaks exchange-to-exchange loops. */
  routeEpoch = 0;
  readonly router: ExchangeRouter;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
  /** The `alternate-exchange` argument: where messages this exchange cannot route go. */
  readonly alternateExchange: string | undefined;
  /** Bindings with this exchange as source, by identity. */
  readonly outbound = new Map<string, Binding>();
  /** Bindings with this exchange as destination (exchange-to-exchange). */
  readonly inbound = new Set<Binding>();

  constructor(
    readonly vhostName: string,
    readonly name: string,
    readonly type: ExchangeTypeName,
    options: ExchangeOptions,
  ) {
    this.durable = options.durable;
    this.autoDelete = options.autoDelete;
    this.internal = options.internal;
    this.arguments = options.arguments;
    this.alternateExchange = fieldString(options.arguments.get('alternate-exchange'));
    this.router = createRouter(type);
  }

  /** Headers exchanges are the only type that reads message headers: others skip decoding them. */
  get readsHeaders(): boolean {
    return this.type === 'headers';
  }

  get isDefault(): boolean {
    return this.name === '';
  }

  describe(): string {
    return this.name === '' ? `the default exchange` : `exchange '${this.name}' in vhost '${this.vhostName}'`;
  }
}
