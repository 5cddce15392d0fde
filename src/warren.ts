/**
 * A running Warren: the broker model, its listener and its store, started and stopped as one.
 * Both the CLI and the embedding API (src/index.ts) are thin layers over this.
 */
import type { Logger } from 'winston';
import { Broker } from './broker/broker.js';
import { type BrokerConfig, DEFAULT_CONFIG } from './config.js';
import { createLogger } from './log.js';
import { ContentProperties } from './server/content-properties.js';
import { Server } from './server/server.js';
import { loadTlsSettings, type TlsOptions, type TlsSettings, tlsOptionsToConfig } from './server/tls-settings.js';
import { openStore } from './store/open.js';
import { Persistence } from './store/persistence.js';
import { VERSION } from './version.js';

export interface WarrenOptions extends Partial<BrokerConfig> {
  /** Use this logger instead of creating one from logLevel/logFormat. */
  logger?: Logger;
  /** An amqps listener (sets the tls* fields; its port defaults to 0, a free one). */
  tls?: TlsOptions;
}

export class Warren {
  readonly config: Readonly<BrokerConfig>;
  readonly broker: Broker;
  readonly server: Server;
  readonly log: Logger;
  readonly persistence: Persistence;
  private closed: Promise<void> | undefined;

  private constructor(config: BrokerConfig, log: Logger, persistence: Persistence, tls: TlsSettings | undefined) {
    this.config = config;
    this.log = log;
    this.persistence = persistence;
    this.broker = new Broker(config.defaultVhost);
    this.server = new Server(this.broker, config, log, VERSION, tls);
  }

  static async start(options: WarrenOptions = {}): Promise<Warren> {
    const { logger, tls: tlsOptions, ...rest } = options;
    const config: BrokerConfig = {
      ...DEFAULT_CONFIG,
      ...stripUndefined(rest),
      ...(tlsOptions === undefined ? {} : stripUndefined(tlsOptionsToConfig(tlsOptions))),
    };
    const log = logger ?? createLogger(config.logLevel, config.logFormat);
    // A TlsSetupError (a missing certificate file, a key that does not match) is for the CLI to report with
    // exit code 1, before the store is opened and locked.
    const tls = loadTlsSettings(config);
    if (tls === undefined && (config.tlsCert !== undefined || config.tlsKey !== undefined)) {
      log.warn('a TLS certificate or key is configured but no TLS port: no TLS listener');
    }
    if (tls !== undefined && new Date(tls.certificate.validTo).getTime() < Date.now()) {
      log.warn(`the TLS certificate expired on ${tls.certificate.validTo}: clients that verify it will refuse to connect`);
    }
    // A StoreError here (data directory locked, unreadable) is for the CLI to report with exit code 1.
    const store = await openStore(config, (err) => log.error(`store write failed: ${err.message}`));
    const persistence = new Persistence({
      store, log, properties: (raw) => new ContentProperties(raw), memoryBudget: config.memoryBudget,
    });
    try {
      const warren = new Warren(config, log, persistence, tls);
      // Durable state is back before the first client can connect.
      await persistence.recover(warren.broker);
      await warren.server.listen();
      // Not needed to serve, and a pass over every message key: in the background (it logs its own errors).
      void persistence.removeOrphanMessages();
      return warren;
    } catch (err) {
      await persistence.close().catch(() => undefined);
      throw err;
    }
  }

  get port(): number {
    return this.server.port;
  }

  /** The amqps listener's port; undefined without TLS. */
  get tlsPort(): number | undefined {
    return this.server.tlsPort;
  }

  /**
   * Stop accepting, close clients with 320 CONNECTION_FORCED, then write what the store still holds and
   * release it. Idempotent. (Confirmed data never depends on this: it was written before the confirm.)
   */
  close(): Promise<void> {
    // Model shutdown sits between the two: queue timers (TTL, x-expires) would keep the process alive.
    this.closed ??= this.server.close().finally(() => {
      this.broker.shutdown();
      return this.persistence.close();
    });
    return this.closed;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
