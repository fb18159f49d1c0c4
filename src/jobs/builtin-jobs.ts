import type { CronRunsRepository } from '../db/repositories/cron-runs.js';
import { defineJob } from './define.js';
import type { Counts, JobBody, JobDefinition } from './types.js';

/** The built-in job names (a public contract: env names and routes use them). */
export const BUILT_IN_JOBS = [
  'check-inactive-users',
  'flush-expired-tokens',
  'clear-expired-sessions',
  'logout-all-users',
  'sequence-tick',
  'prune-cron-runs',
  'purge-unactivated-accounts',
] as const;
export type BuiltInJobName = (typeof BUILT_IN_JOBS)[number];

export interface BuiltInJobsOptions {
  /**
   * Real bodies for built-in jobs, keyed by name. A job without one is a
   * no-op placeholder that returns zero counts and says so in `jobs list`.
   * Later areas register theirs here from app.ts.
   */
  readonly bodies?: Partial<Record<Exclude<BuiltInJobName, 'prune-cron-runs'>, JobBody>>;
  readonly ledger: Pick<CronRunsRepository, 'deleteOlderThan' | 'countOlderThan'>;
  /** Ledger rows older than this are pruned, in ms (default 30 days). */
  readonly retentionMs?: number;
  /** Rows per delete statement (default 1000). */
  readonly pruneBatchSize?: number;
}

function placeholder(zero: Counts): JobBody {
  return async () => zero;
}

/** The built-in jobs with DESIGN.md's schedules. */
export function builtInJobs(options: BuiltInJobsOptions): JobDefinition[] {
  const bodies = options.bodies ?? {};
  const slot = (name: Exclude<BuiltInJobName, 'prune-cron-runs'>, zero: Counts, issue: string) =>
    bodies[name] === undefined ? { run: placeholder(zero), placeholder: `no-op until ${issue} lands` } : { run: bodies[name] };
  return [
    defineJob({
      name: 'check-inactive-users',
      description: 'users without activity for INACTIVITY_MINUTES go offline; offline events are pushed',
      schedule: '* * * * *',
      ...slot('check-inactive-users', { offline: 0 }, 'presence'),
    }),
    defineJob({
      name: 'flush-expired-tokens',
      description: 'delete refresh-token and blocklist rows past their expiry, in batches',
      schedule: '0 0 * * *',
      ...slot('flush-expired-tokens', { deleted: 0 }, 'token maintenance'),
    }),
    defineJob({
      name: 'clear-expired-sessions',
      description: 'delete sessions past expiry',
      schedule: '0 * * * *',
      ...slot('clear-expired-sessions', { deleted: 0 }, 'session maintenance'),
    }),
    defineJob({
      name: 'logout-all-users',
      description: 'revoke every active session, with exclusions; a dry run only counts',
      schedule: '0 2 * * *',
      enabled: false,
      // Logging everybody out hours late (say at start-up) would surprise users.
      catchUp: { kind: 'none' },
      ...slot('logout-all-users', { revoked: 0 }, 'session maintenance'),
    }),
    defineJob({
      name: 'sequence-tick',
      description: 'send due sequence e-mails exactly once',
      schedule: '* * * * *',
      ...slot('sequence-tick', { sent: 0 }, 'mail sequences'),
    }),
    defineJob({
      name: 'purge-unactivated-accounts',
      description: 'delete accounts never activated within UNACTIVATED_ACCOUNT_TTL, then expired account links, in batches',
      schedule: '45 * * * *',
      ...slot('purge-unactivated-accounts', { deleted: 0 }, 'the account lifecycle'),
    }),
    defineJob({
      name: 'prune-cron-runs',
      description: 'delete run-ledger rows older than CRON_RUNS_RETENTION_DAYS, in batches',
      schedule: '30 3 * * *',
      run: pruneCronRuns(options),
    }),
  ];
}

function pruneCronRuns(options: BuiltInJobsOptions): JobBody {
  const retentionMs = options.retentionMs ?? 30 * 86_400_000;
  const batchSize = options.pruneBatchSize ?? 1000;
  return async ({ clock, dryRun, signal, progress }): Promise<Counts> => {
    const cutoff = clock.now() - retentionMs;
    if (dryRun) return { deleted: 0, would_delete: await options.ledger.countOlderThan(cutoff) };
    let deleted = 0;
    for (;;) {
      signal.throwIfAborted();
      const batch = await options.ledger.deleteOlderThan(cutoff, batchSize);
      deleted += batch;
      progress({ done: deleted });
      if (batch < batchSize) return { deleted };
    }
  };
}
