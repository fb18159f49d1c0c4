import { Writable } from 'node:stream';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type JobOverride } from '../../src/config/index.js';
import { openStorage } from '../../src/db/connect.js';
import type { Storage } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { CronRunsRepository } from '../../src/db/repositories/cron-runs.js';
import { JobControlsRepository } from '../../src/db/repositories/job-controls.js';
import { JobLeasesRepository } from '../../src/db/repositories/job-leases.js';
import { defineJob, type JobSpec } from '../../src/jobs/define.js';
import { DefaultJobsService, type JobsServiceOptions } from '../../src/jobs/service.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import { createLogger } from '../../src/logger.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** One "instance": a storage handle and a jobs service over a (possibly shared) test database. */
export interface JobsFixture {
  readonly storage: Storage;
  readonly service: DefaultJobsService;
  readonly ledger: CronRunsRepository;
  readonly leases: JobLeasesRepository;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

class Sink extends Writable {
  override _write(_chunk: Buffer, _encoding: string, callback: () => void): void {
    callback();
  }
}

export async function openJobsFixture(options: {
  clock: Clock;
  /** The database's clock, on which leases are judged (default `clock`: the test's one time). */
  databaseClock?: Clock;
  definitions: readonly JobDefinition[];
  overrides?: Readonly<Record<string, JobOverride>>;
  instanceId?: string;
  database?: TestDatabase;
  /** Passed to the service as is (lease timing, schedule-run maximum, timers, a logger to capture). */
  service?: Partial<Pick<JobsServiceOptions, 'lease' | 'scheduleRunMaxMs' | 'timers' | 'logger'>>;
}): Promise<JobsFixture> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({ env: { ...BASE_TEST_ENV, ...database.env }, secretKey: TEST_SECRET_KEY });
  const storage = openStorage(config.database);
  await migrateToLatest(storage, config.database.kind === 'postgres' ? config.database.schema : undefined);
  const ledger = new CronRunsRepository(storage);
  const leases = new JobLeasesRepository(storage, options.databaseClock ?? options.clock);
  const service = new DefaultJobsService({
    ledger,
    leases,
    controls: new JobControlsRepository(storage),
    clock: options.clock,
    logger: createLogger({ level: 'silent', destination: new Sink() }),
    instanceId: options.instanceId ?? 'instance-a',
    definitions: options.definitions,
    ...(options.overrides ? { overrides: options.overrides } : {}),
    drainMs: 2000,
    ...options.service,
  });
  return {
    storage,
    service,
    ledger,
    leases,
    database,
    async close() {
      await service.stop();
      await storage.close();
      if (!options.database) await database.drop();
    },
  };
}

/** A job with test-friendly defaults (every minute, UTC). */
export function job(spec: Partial<JobSpec> & Pick<JobSpec, 'name' | 'run'>): JobDefinition {
  return defineJob({ description: 'test job', schedule: '* * * * *', ...spec });
}

/** Waits until `check` returns true, polling every 10 ms, up to `timeoutMs` (real time). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
