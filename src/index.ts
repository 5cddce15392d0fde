/**
 * Warren's public embedding API: `import { startBroker } from 'warren-mq'` (ESM), or `require('warren-mq')`
 * from CommonJS (Node >= 20.19 loads this ES module synchronously: the module graph has no top-level await).
 */
export { startBroker, WarrenBroker, EMBEDDED_DEFAULTS, type BrokerOptions } from './embedded.js';
export type {
  BindingInfo, ExchangeInfo, PlainFieldValue, PlainTable, QueueInfo,
} from './testing/inspect.js';
export { WaitTimeoutError, DEFAULT_WAIT_TIMEOUT_MS, type BrokerWaits, type WaitOptions } from './testing/wait.js';
export type { BrokerConfig } from './config.js';
export { TlsSetupError, type TlsOptions, type PemSource } from './server/tls-settings.js';
export type { LogFormat, LogLevel } from './log.js';
export { DEFAULT_CONFIG } from './config.js';
/** The lower-level handle the CLI uses (no embedded defaults, no test conveniences). */
export { Warren, type WarrenOptions } from './warren.js';
