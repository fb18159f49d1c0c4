import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../src/config/index.js';
import { defineJob } from '../../src/jobs/define.js';
import type { JobDefinition } from '../../src/jobs/types.js';

/** Where test jobs append one line per run (their observable side effect). */
export function testJobsLogPath(dataDir: string): string {
  return join(dataDir, 'test-jobs.log');
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/**
 * TEST-ONLY jobs, passed as `extraJobs` by tests (in-process: startTestApp's
 * `extraJobs`; child processes: test/helpers/curfew-test-entry.js), never
 * registered by src/:
 * - `test-counter`, every second: appends "counter <slot> <instance>" to DATA_DIR/test-jobs.log;
 * - `test-slow`, every second, disabled unless JOB_TEST_SLOW_ENABLED=true:
 *   works TEST_SLOW_MS (default 2500) ms, then appends "slow <slot> <instance>".
 */
export function testJobs(config: Pick<Config, 'dataDir' | 'scheduler'>, slowMs = 2500): JobDefinition[] {
  const log = testJobsLogPath(config.dataDir);
  const instanceId = config.scheduler.instanceId;
  return [
    defineJob({
      name: 'test-counter',
      description: 'TEST ONLY: appends one line per slot to DATA_DIR/test-jobs.log',
      schedule: '* * * * * *',
      run: async ({ scheduledFor, dryRun }) => {
        if (!dryRun) await appendFile(log, `counter ${scheduledFor ?? 'adhoc'} ${instanceId}\n`);
        return { written: dryRun ? 0 : 1 };
      },
    }),
    defineJob({
      name: 'test-slow',
      description: 'TEST ONLY: works a while (2.5 s), then appends one line to DATA_DIR/test-jobs.log',
      schedule: '* * * * * *',
      enabled: false,
      run: async ({ scheduledFor, signal }) => {
        await wait(slowMs, signal);
        await appendFile(log, `slow ${scheduledFor ?? 'adhoc'} ${instanceId}\n`);
        return { written: 1 };
      },
    }),
  ];
}

/** Arguments for `spawn(process.execPath, [...CURFEW_TEST_ENTRY, 'serve'])`: the CLI with the test-only jobs. */
export const CURFEW_TEST_ENTRY: readonly string[] = ['test/helpers/curfew-test-entry.js'];
