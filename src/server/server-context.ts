/** What every connection shares: the broker model, configuration, users, the logger, the registry. */
import type { Logger } from 'winston';
import type { Broker } from '../broker/broker.js';
import type { BrokerConfig } from '../config.js';
import type { Connection } from './connection.js';

export interface ServerContext {
  readonly broker: Broker;
  readonly config: Readonly<BrokerConfig>;
  readonly users: ReadonlyMap<string, string>;
  readonly log: Logger;
  readonly version: string;
  connectionClosed(connection: Connection): void;
}
