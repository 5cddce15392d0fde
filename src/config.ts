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
  /**
   * TLS (amqps) listener port on the same host(s) as the plain one; undefined: no TLS listener (RabbitMQ's
   * listeners.ssl.default, conventionally 5671); 0 picks a free one.
   */
  tlsPort: number | undefined;
  /** Server certificate (chain), PEM: a file name, or the PEM text itself (RabbitMQ's ssl_options.certfile). */
  tlsCert: string | Buffer | undefined;
  /** The certificate's private key, PEM: a file name or the PEM text (ssl_options.keyfile). */
  tlsKey: string | Buffer | undefined;
  /** CA certificate(s) that client certificates must chain to, PEM: a file name or the text (ssl_options.cacertfile). */
  tlsCa: string | Buffer | undefined;
  /** Ask clients for a certificate and refuse an invalid one (ssl_options.verify = verify_peer; default verify_none). */
  tlsVerifyPeer: boolean;
  /** With tlsVerifyPeer, also refuse clients that present no certificate (ssl_options.fail_if_no_peer_cert). */
  tlsFailIfNoPeerCert: boolean;
  /** Password of an encrypted private key (ssl_options.password). */
  tlsKeyPassword: string | undefined;
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
  tlsPort: undefined,
  tlsCert: undefined,
  tlsKey: undefined,
  tlsCa: undefined,
  tlsVerifyPeer: false,
  tlsFailIfNoPeerCert: false,
  tlsKeyPassword: undefined,
};
