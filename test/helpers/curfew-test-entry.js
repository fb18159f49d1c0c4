#!/usr/bin/env node
// bin/curfew.js for tests: the same command line with the test-only jobs
// registered (curfew-test-cli.ts). Spawn it as
// `node test/helpers/curfew-test-entry.js serve` (CURFEW_TEST_ENTRY in test-jobs.ts).
// Like bin/curfew.js it registers tsx's ESM loader itself, which starts faster
// than `node --import tsx`.
import { register } from 'tsx/esm/api';

register();
await import('./curfew-test-cli.ts');
