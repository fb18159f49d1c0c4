import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineJob } from './define.js';
import type { JobDefinition } from './types.js';

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
 * TEST-ONLY jobs, registered only when CURFEW_TEST_JOBS=1 (refused in
 * production), for the multi-process exactly-once tests:
 * - `test-counter`, every second: appends "counter <slot> <instance>" to DATA_DIR/test-jobs.log;
 * - `test-slow`, every second, disabled unless JOB_TEST_SLOW_ENABLED=true:
 *   works 2.5 s, then appends "slow <slot> <instance>".
 */
export function testJobs(dataDir: string, instanceId: string): JobDefinition[] {
  const log = testJobsLogPath(dataDir);
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
      description: 'TEST ONLY: works 2.5 s, then appends one line to DATA_DIR/test-jobs.log',
      schedule: '* * * * * *',
      enabled: false,
      run: async ({ scheduledFor, signal }) => {
        await wait(2500, signal);
        await appendFile(log, `slow ${scheduledFor ?? 'adhoc'} ${instanceId}\n`);
        return { written: 1 };
      },
    }),
  ];
}
