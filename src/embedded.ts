/**
 * The embedding API's broker handle: a Warren started in-process with test-friendly defaults, its
 * address, close(), and the test conveniences (reset, read-only inspection, waitFor). Several can run in
 * one process; each owns its listener, model, store and logger, and close() leaves no handle behind.
 */
import type { BrokerConfig } from './config.js';
import type { VirtualHost } from './broker/vhost.js';
import {
  type BindingInfo, type ExchangeInfo, type QueueInfo, bindingInfo, exchangeInfo, isBuiltinExchange, queueInfo,
} from './testing/inspect.js';
import { type BrokerWaits, QueueWaits } from './testing/wait.js';
import { Warren, type WarrenOptions } from './warren.js';

export type BrokerOptions = WarrenOptions;

/**
 * Where the embedded API differs from the CLI's defaults (src/config.ts): loopback only, a free port,
 * nothing on disk, and quiet. 'error' still reports broker bugs and store failures, but not the channel
 * errors and refused logins that tests provoke on purpose (those are 'warn').
 */
export const EMBEDDED_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  store: 'memory',
  logLevel: 'error',
} as const satisfies Partial<BrokerConfig>);

const STORES: ReadonlySet<string> = new Set(['memory', 'level']);
const LOG_LEVELS: ReadonlySet<string> = new Set(['error', 'warn', 'info', 'debug', 'silent']);

/** Start a broker; resolves once it accepts connections. */
export async function startBroker(options: BrokerOptions = {}): Promise<WarrenBroker> {
  const merged: BrokerOptions = { ...EMBEDDED_DEFAULTS, ...withoutUndefined(options) };
  // A typo here would otherwise silently open a LevelDB store in ./data, or log at the default level.
  if (merged.store !== undefined && !STORES.has(merged.store)) {
    throw new TypeError(`startBroker: store must be 'memory' or 'level', not '${String(merged.store)}'`);
  }
  if (merged.logLevel !== undefined && !LOG_LEVELS.has(merged.logLevel)) {
    throw new TypeError(`startBroker: unknown logLevel '${String(merged.logLevel)}'`);
  }
  const { tls } = merged;
  if (tls !== undefined && (tls === null || typeof tls !== 'object' || tls.cert === undefined || tls.key === undefined)) {
    throw new TypeError('startBroker: tls needs cert and key (file names or PEM)');
  }
  return new WarrenBroker(await Warren.start(merged));
}

export class WarrenBroker {
  /** `amqp://user:pass@host:port[/vhost]`, ready for amqplib.connect(). */
  readonly url: string;
  readonly port: number;
  /** `amqps://user:pass@host:port[/vhost]` when started with a `tls` option, else undefined. */
  readonly tlsUrl: string | undefined;
  /** The amqps listener's port (undefined without TLS). */
  readonly tlsPort: number | undefined;
  /** The host clients should dial: 127.0.0.1 when the broker listens on every interface or on loopback. */
  readonly host: string;
  /** Promises that settle on broker events (see BrokerWaits). */
  readonly waitFor: BrokerWaits;

  private readonly warren: Warren;
  private readonly waits: QueueWaits;
  private closing: Promise<void> | undefined;

  /** Use startBroker(). */
  constructor(warren: Warren) {
    this.warren = warren;
    const c = warren.config;
    this.port = warren.port;
    this.host = clientHost(c.host);
    this.url = amqpUrl('amqp', this.host, this.port, c.defaultUser, c.defaultPass, c.defaultVhost);
    this.tlsPort = warren.tlsPort;
    this.tlsUrl = this.tlsPort === undefined
      ? undefined : amqpUrl('amqps', this.host, this.tlsPort, c.defaultUser, c.defaultPass, c.defaultVhost);
    this.waits = new QueueWaits(warren.broker, c.defaultVhost);
    this.waitFor = this.waits;
  }

  /** The effective configuration (defaults filled in). */
  get config(): Readonly<BrokerConfig> {
    return this.warren.config;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Client connections open now (counting those still in the handshake). */
  get connectionCount(): number {
    return this.warren.server.connectionCount;
  }

  // ------------------------------------------------------------------ inspection

  /** Names of the virtual hosts. */
  vhosts(): string[] {
    return [...this.warren.broker.vhosts.keys()];
  }

  /** Every queue of the vhost (default: the default vhost), in declaration order. */
  queues(vhost?: string): QueueInfo[] {
    const v = this.vhost(vhost);
    return [...v.queues.values()].map((q) => queueInfo(v.name, q));
  }

  queue(name: string, vhost?: string): QueueInfo | undefined {
    const v = this.vhost(vhost);
    const q = v.queues.get(name);
    return q === undefined ? undefined : queueInfo(v.name, q);
  }

  /** Every exchange of the vhost, the built-in ones ('' and amq.*) included and flagged `builtin`. */
  exchanges(vhost?: string): ExchangeInfo[] {
    const v = this.vhost(vhost);
    return [...v.exchanges.values()].map((x) => exchangeInfo(v.name, x));
  }

  exchange(name: string, vhost?: string): ExchangeInfo | undefined {
    const v = this.vhost(vhost);
    const x = v.exchanges.get(name);
    return x === undefined ? undefined : exchangeInfo(v.name, x);
  }

  /**
   * Every binding of the vhost. The default exchange's implicit binding to each queue (by queue name) is
   * not listed: it is not a binding anyone made, and RabbitMQ lets nobody change it.
   */
  bindings(vhost?: string): BindingInfo[] {
    const v = this.vhost(vhost);
    return [...v.bindings()].map((b) => bindingInfo(v.name, b));
  }

  // ------------------------------------------------------------------ reset and close

  /**
   * Between tests: delete every queue (their messages and bindings with them; consumers get
   * basic.cancel), every exchange but the built-in ones, and every remaining binding, in every vhost.
   * Connections and channels stay open. Deletions go through the model's own delete paths, so a LevelDB
   * store is updated too; resolves once those writes are committed.
   */
  async reset(): Promise<void> {
    this.assertOpen('reset');
    for (const vhost of this.warren.broker.vhosts.values()) resetVhost(vhost);
    await new Promise<void>((resolve, reject) => {
      this.warren.persistence.afterCommit((err) => (err === null ? resolve() : reject(err)));
    });
  }

  /**
   * Stop accepting, close client connections with 320 CONNECTION_FORCED, release the port and the store.
   * Pending waitFor promises reject. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.waits.close('broker closed');
      this.closing = this.warren.close();
    }
    return this.closing;
  }

  private vhost(name: string | undefined): VirtualHost {
    const vhostName = name ?? this.warren.config.defaultVhost;
    const v = this.warren.broker.vhost(vhostName);
    if (v === undefined) throw new Error(`no vhost '${vhostName}'`);
    return v;
  }

  private assertOpen(what: string): void {
    if (this.closing !== undefined) throw new Error(`${what}: the broker is closed`);
  }
}

function resetVhost(vhost: VirtualHost): void {
  // Queues first: their bindings go with them, and consumers are told (basic.cancel).
  for (const queue of [...vhost.queues.values()]) vhost.removeQueueUnchecked(queue);
  for (const exchange of [...vhost.exchanges.values()]) {
    // Deleting one may auto-delete another (its last binding gone): skip those already gone.
    if (isBuiltinExchange(exchange.name) || vhost.exchanges.get(exchange.name) !== exchange) continue;
    vhost.deleteExchange({ exchange: exchange.name, ifUnused: false });
  }
  // What is left are exchange-to-exchange bindings between built-in exchanges.
  for (const b of [...vhost.bindings()]) {
    vhost.unbindExchange({ source: b.source, destination: b.destination.name, routingKey: b.routingKey, arguments: b.arguments });
  }
}

function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === 'localhost' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function amqpUrl(scheme: 'amqp' | 'amqps', host: string, port: number, user: string, pass: string, vhost: string): string {
  const enc = encodeURIComponent;
  // amqplib (like RabbitMQ's URI spec) takes an absent path as vhost '/'.
  const path = vhost === '/' ? '' : `/${enc(vhost)}`;
  return `${scheme}://${enc(user)}:${enc(pass)}@${host}:${port}${path}`;
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
