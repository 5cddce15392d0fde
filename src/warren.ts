/**
 * A running Warren: the broker model and its listener, started and stopped as one.
 * Both the CLI and the embedding API (src/index.ts) are thin layers over this.
 */
import type { Logger } from 'winston';
import { Broker } from './broker/broker.js';
import { type BrokerConfig, DEFAULT_CONFIG } from './config.js';
import { createLogger } from './log.js';
import { Server } from './server/server.js';
import { VERSION } from './version.js';

export interface WarrenOptions extends Partial<BrokerConfig> {
  /** Use this logger instead of creating one from logLevel/logFormat. */
  logger?: Logger;
}

export class Warren {
  readonly config: Readonly<BrokerConfig>;
  readonly broker: Broker;
  readonly server: Server;
  readonly log: Logger;
  private closed: Promise<void> | undefined;

  private constructor(config: BrokerConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.broker = new Broker(config.defaultVhost);
    this.server = new Server(this.broker, config, log, VERSION);
  }

  static async start(options: WarrenOptions = {}): Promise<Warren> {
    const { logger, ...rest } = options;
    const config: BrokerConfig = { ...DEFAULT_CONFIG, ...stripUndefined(rest) };
    const log = logger ?? createLogger(config.logLevel, config.logFormat);
    const warren = new Warren(config, log);
    await warren.server.listen();
    return warren;
  }

  get port(): number {
    return this.server.port;
  }

  /** Stop accepting, close clients with 320 CONNECTION_FORCED, release everything. Idempotent. */
  close(): Promise<void> {
    this.closed ??= this.server.close();
    return this.closed;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
