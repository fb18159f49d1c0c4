import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import { CronRunsRepository } from '../db/repositories/cron-runs.js';
import { JobControlsRepository } from '../db/repositories/job-controls.js';
import { JobLeasesRepository } from '../db/repositories/job-leases.js';
import type { Logger } from '../logger.js';
import { builtInJobs, type BuiltInJobsOptions } from './builtin-jobs.js';
import { InProcessScheduler } from './scheduler.js';
import { DefaultJobsService } from './service.js';
import type { JobDefinition } from './types.js';

export { DefaultJobsService } from './service.js';
export { InProcessScheduler } from './scheduler.js';
export { defineJob } from './define.js';
export { JobRunner, type RunRequest, type MissedSlot, type ScheduleRunRequest } from './runner.js';
export { systemTimers, type Timers } from './timers.js';
export { DEFAULT_LEASE_TIMING, type LeaseTiming } from './lease.js';
export type * from './types.js';

export interface CreateJobsOptions {
  readonly config: Config;
  readonly clock: Clock;
  /**
   * Stands for the database's clock in lease decisions (a test's clock, shared
   * by every instance it builds). Omitted: the database's own clock, read in
   * SQL, so instances with skewed clocks still agree on who holds a lease.
   */
  readonly databaseClock?: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  /** Real bodies for built-in jobs whose areas have landed (e.g. `flush-expired-tokens`). */
  readonly bodies?: BuiltInJobsOptions['bodies'];
  /** Further jobs to register beside the built-ins. */
  readonly extraJobs?: readonly JobDefinition[];
}

/**
 * Builds the jobs service (validating JOB_* overrides: throws ConfigError) and
 * the in-process scheduler task (added to the app's background list when
 * `config.scheduler.enabled`).
 */
export function createJobs(options: CreateJobsOptions): { service: DefaultJobsService; scheduler: InProcessScheduler } {
  const { config, clock, logger, storage } = options;
  const ledger = new CronRunsRepository(storage);
  const definitions = [
    ...builtInJobs({ ledger, retentionMs: config.scheduler.runRetentionMs, ...(options.bodies ? { bodies: options.bodies } : {}) }),
    ...(options.extraJobs ?? []),
  ];
  const service = new DefaultJobsService({
    ledger,
    leases: new JobLeasesRepository(storage, options.databaseClock),
    controls: new JobControlsRepository(storage),
    clock,
    logger: logger.child({ component: 'jobs' }),
    instanceId: config.scheduler.instanceId,
    definitions,
    overrides: config.jobs,
    lateAfterMs: config.scheduler.lateAfterMs,
    lease: { ttlMs: config.scheduler.leaseTtlMs, heartbeatMs: config.scheduler.leaseHeartbeatMs },
    scheduleRunMaxMs: config.scheduler.cronRunMaxMs,
  });
  return { service, scheduler: new InProcessScheduler({ service, clock, logger }) };
}
