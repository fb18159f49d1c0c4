/**
 * The `curfew` command line with the test-only jobs registered (test-jobs.ts),
 * for tests that start real processes: they spawn curfew-test-entry.js
 * (CURFEW_TEST_ENTRY) instead of bin/curfew.js, and it loads this file.
 * TEST_SLOW_MS sets test-slow's working time (default 2500 ms).
 */
import { main } from '../../src/cli/main.js';
import { testJobs } from './test-jobs.js';

const slowMs = Number(process.env.TEST_SLOW_MS ?? 2500);
await main(process.argv, { appOptions: (config) => ({ extraJobs: testJobs(config, slowMs) }) });
