/** Warren's public embedding API. */
import { Warren, type WarrenOptions } from './warren.js';

export type { BrokerConfig } from './config.js';
export type { WarrenOptions } from './warren.js';
export { Warren } from './warren.js';

/** Start a broker; resolves once it accepts connections. */
export function startBroker(options: WarrenOptions = {}): Promise<Warren> {
  return Warren.start(options);
}
