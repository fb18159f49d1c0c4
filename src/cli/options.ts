import type { AppOptions } from '../app.js';
import type { Config } from '../config/index.js';

/**
 * How an entry point customises the CLI. `bin/curfew.js` passes none; a test
 * entry (test/helpers/curfew-test-entry.js) passes test-only jobs this way,
 * so nothing test-only lives in src/ or in the production configuration.
 */
export interface CliOptions {
  /** Extra app options for `curfew serve`, from the loaded config (e.g. `extraJobs`). Default none. */
  readonly appOptions?: (config: Config) => AppOptions;
}
