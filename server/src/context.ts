import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Store } from './store/store.js';
import type { Plan } from './workspaces/plans.js';

/** What every service is built from: the store, the configuration, the clock and the logger. */
export interface Context {
  store: Store;
  config: Config;
  clock: Clock;
  plans: Record<string, Plan>;
  logger: Logger;
}
