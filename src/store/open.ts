/** Open the store a configuration names: LevelDB in the data directory, or memory. */
import type { BrokerConfig } from '../config.js';
import { openLevelStore } from './level-store.js';
import { MemoryStore } from './memory-store.js';
import type { Store } from './store.js';

export function openStore(
  config: Pick<BrokerConfig, 'store' | 'dataDir' | 'fsync'>,
  onWriteError?: (error: Error) => void,
): Promise<Store> {
  if (config.store === 'memory') return Promise.resolve(new MemoryStore());
  return openLevelStore(config.dataDir, { fsync: config.fsync, ...(onWriteError ? { onWriteError } : {}) });
}
