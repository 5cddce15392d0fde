/** Broker configuration: every option the CLI and the embedding API accept, with RabbitMQ's defaults. */
import { DEFAULT_MEMORY_BUDGET } from './broker/memory-budget.js';
import type { LogFormat, LogLevel } from './log.js';

export interface BrokerConfig {
  /** Interface to listen on; '0.0.0.0' or '::' also serve the other IP family (dual stack). */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Where LevelDB keeps durable state. */
  dataDir: string;
  store: 'level' | 'memory';
  /** Write each batch with fsync (survives power loss; slower). Default: survives a process crash. */
  fsync: boolean;
  /**
   * Bytes of message bodies that persistent messages in durable queues may keep in memory (default 256
   * MiB). Past it, a long queue's bodies stay on disk and are read back in order ahead of delivery
   * (RabbitMQ's lazy queues). Each queue also keeps a read-ahead window at its head (up to 1024
   * messages or 4 MiB, or a quarter of the budget if less). LevelDB store only: the memory store keeps
   * every message in memory.
   */
  memoryBudget: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  defaultUser: string;
  defaultPass: string;
  defaultVhost: string;
  /** Users that may connect only from a loopback address (RabbitMQ's loopback_users). */
  loopbackUsers: string[];
  /** Heartbeat interval the server proposes, seconds (RabbitMQ: 60). */
  heartbeat: number;
  /** Largest frame the server accepts, bytes (RabbitMQ: 131072). */
  frameMax: number;
  /** Highest channel number (RabbitMQ: 2047). */
  channelMax: number;
  /** Largest message body, bytes (RabbitMQ: 128 MiB). */
  maxMessageSize: number;
  /** A connection not open within this many ms is dropped (RabbitMQ's handshake_timeout: 10 s). */
  handshakeTimeout: number;
}

export const DEFAULT_CONFIG: Readonly<BrokerConfig> = {
  host: '0.0.0.0',
  port: 5672,
  dataDir: './data',
  store: 'level',
  fsync: false,
  memoryBudget: DEFAULT_MEMORY_BUDGET,
  logLevel: 'info',
  logFormat: 'text',
  defaultUser: 'guest',
  defaultPass: 'guest',
  defaultVhost: '/',
  loopbackUsers: ['guest'],
  heartbeat: 60,
  frameMax: 131072,
  channelMax: 2047,
  maxMessageSize: 134217728,
  handshakeTimeout: 10000,
};
