import type { Clock } from '../clock.js';
import type { JobOverride } from '../config/index.js';
import type { CronRunRow, CronRunsRepository } from '../db/repositories/cron-runs.js';
import type { JobLeasesRepository } from '../db/repositories/job-leases.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { decideDue } from './catch-up.js';
import { isLate } from './lateness.js';
import { acquireLease } from './lease.js';
import { JobRegistry, SCHEDULE_RUN_JOB, type RegisteredJob } from './registry.js';
import { ABANDONED_ERROR, JobRunner, shortText } from './runner.js';
import { nextSlot } from './schedule.js';
import type {
  CallerInfo,
  JobDefinition,
  JobStatus,
  JobsService,
  Progress,
  RunFinishedListener,
  RunSummary,
  ScheduleRunResult,
  Trigger,
} from './types.js';

/** The `schedule-run` lease TTL, as in seed 002 (600 s). */
export const SCHEDULE_RUN_TTL_MS = 600_000;

export interface JobsServiceOptions {
  readonly ledger: CronRunsRepository;
  readonly leases: JobLeasesRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly instanceId: string;
  /** Every job of this process (built-ins plus any others), before overrides. */
  readonly definitions: readonly JobDefinition[];
  /** `config.jobs`: JOB_<NAME>_<FIELD> overrides, validated here (ConfigError). */
  readonly overrides?: Readonly<Record<string, JobOverride>>;
  /** How long stop() lets running jobs finish before aborting them (default 10 s). */
  readonly drainMs?: number;
}

/**
 * The scheduler's service: decides what is due (pure slot maths), records it
 * (idempotent ledger insert), and runs it through the one runner, whichever
 * trigger asked.
 */
export class DefaultJobsService implements JobsService {
  readonly registry: JobRegistry;
  private readonly runner: JobRunner;
  private readonly listeners = new Set<RunFinishedListener>();
  private readonly createdAt: number;
  /** A schedule-run in progress here (the lease alone would let this instance in twice). */
  private scheduleRunActive = false;

  constructor(private readonly options: JobsServiceOptions) {
    this.registry = new JobRegistry(options.definitions, options.overrides);
    this.createdAt = options.clock.now();
    this.runner = new JobRunner({
      ledger: options.ledger,
      leases: options.leases,
      clock: options.clock,
      logger: options.logger,
      instanceId: options.instanceId,
      ...(options.drainMs === undefined ? {} : { drainMs: options.drainMs }),
      emit: (event) => {
        for (const listener of this.listeners) {
          try {
            listener(event);
          } catch (error) {
            options.logger.error({ err: error, job: event.summary.job }, 'onRunFinished listener failed');
          }
        }
      },
    });
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  definitions(): readonly JobDefinition[] {
    return this.registry.all().map((job) => job.definition);
  }

  onRunFinished(listener: RunFinishedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while `job` runs in this process. */
  isRunning(job: string): boolean {
    return this.runner.isRunning(job);
  }

  /**
   * Decides, records and runs what is due for one job at `now`: `missed` rows
   * for slots the catch-up policy gives up, then each due slot in order (late
   * ones with trigger `catch-up`). Used by runDue and the in-process scheduler.
   */
  async runDueJob(job: RegisteredJob, trigger: Trigger, caller: CallerInfo, now = this.options.clock.now()): Promise<RunSummary[]> {
    const { definition, schedule } = job;
    const lastSlot = await this.options.ledger.lastSlot(definition.name);
    const decision = decideDue(schedule, definition.catchUp, lastSlot, now);
    const summaries: RunSummary[] = [];
    if (decision.missed.length > 0) {
      await this.options.ledger.insertMissed(definition.name, decision.missed, now, this.options.instanceId, 'catch-up');
      this.options.logger.warn({ job: definition.name, missed: decision.missed.length }, 'slots missed while nothing fired');
      for (const slot of decision.missed) {
        summaries.push({ id: null, job: definition.name, scheduledFor: slot, trigger: 'catch-up', status: 'missed', durationMs: 0, counts: {} });
      }
    }
    for (const due of decision.run) {
      const summary = await this.runner.run(definition, { slot: due.slot, trigger: due.late ? 'catch-up' : trigger, dryRun: false, caller });
      if (summary !== undefined) summaries.push(summary);
    }
    return summaries;
  }

  async runDue(trigger: Trigger, caller: CallerInfo): Promise<{ busy: true } | { busy: false; result: ScheduleRunResult }> {
    if (this.scheduleRunActive) return { busy: true };
    this.scheduleRunActive = true;
    try {
      return await this.runDueExclusive(trigger, caller);
    } finally {
      this.scheduleRunActive = false;
    }
  }

  private async runDueExclusive(trigger: Trigger, caller: CallerInfo): Promise<{ busy: true } | { busy: false; result: ScheduleRunResult }> {
    const { ledger, leases, clock, instanceId, logger } = this.options;
    const attempt = await acquireLease({ store: leases, job: SCHEDULE_RUN_JOB, holder: instanceId, ttlMs: SCHEDULE_RUN_TTL_MS, clock });
    if (!attempt.acquired) return { busy: true };
    const lease = attempt.lease;
    lease.keepAlive(() => logger.warn('schedule-run lease lost while running due jobs'));
    try {
      const startedAt = clock.now();
      const id = await ledger.insert({
        job: SCHEDULE_RUN_JOB,
        scheduledFor: null,
        trigger,
        status: 'running',
        startedAt,
        instanceId,
        dryRun: false,
        ip: caller.ip,
        userAgent: caller.userAgent?.slice(0, 300),
        requestId: caller.requestId,
      });
      await ledger.abandonRunning(SCHEDULE_RUN_JOB, attempt.previousHolder, id, startedAt, startedAt - SCHEDULE_RUN_TTL_MS, ABANDONED_ERROR);
      let runs: RunSummary[] = [];
      let error: string | null = null;
      try {
        const jobs = this.registry.all().filter((job) => job.definition.enabled);
        runs = (await Promise.all(jobs.map((job) => this.runDueJob(job, trigger, caller, startedAt)))).flat();
      } catch (cause) {
        error = shortText(cause instanceof Error ? cause.message : String(cause), 500);
        logger.error({ err: cause }, 'schedule-run failed');
      }
      const finishedAt = clock.now();
      const tally: Record<string, number> = { ran: 0, ok: 0, failed: 0, timed_out: 0, skipped: 0, missed: 0 };
      for (const run of runs) {
        tally[run.status] = (tally[run.status] ?? 0) + 1;
        if (run.status !== 'missed' && run.status !== 'skipped') tally.ran = (tally.ran ?? 0) + 1;
      }
      await ledger.finish(id, {
        status: error === null ? 'ok' : 'failed',
        finishedAt,
        durationMs: finishedAt - startedAt,
        counts: JSON.stringify(tally),
        output: `ran ${tally.ran}, skipped ${tally.skipped}, missed ${tally.missed}`,
        error,
      });
      if (error !== null) throw new AppError('INTERNAL_ERROR', 'The schedule run failed; see the run ledger.');
      return { busy: false, result: { cronRunId: id, durationMs: finishedAt - startedAt, runs } };
    } finally {
      await lease.release().catch((cause: unknown) => logger.warn({ err: cause }, 'schedule-run lease release failed'));
    }
  }

  async runJob(
    name: string,
    options: { dryRun: boolean; trigger: Trigger; caller: CallerInfo; onProgress?: (p: Progress) => void },
  ): Promise<RunSummary> {
    const { definition } = this.registry.get(name);
    if (!definition.enabled && !options.dryRun && options.trigger === 'http') {
      throw new AppError('JOB_DISABLED', `Job "${name}" is disabled; enable it with ${`JOB_${name.toUpperCase().replace(/-/g, '_')}_ENABLED=true`} or run it from the CLI.`);
    }
    const summary = await this.runner.run(definition, {
      slot: null,
      trigger: options.trigger,
      dryRun: options.dryRun,
      caller: options.caller,
      onProgress: options.onProgress,
    });
    // Ad-hoc rows never conflict, so the runner always answers.
    return summary as RunSummary;
  }

  async status(): Promise<readonly JobStatus[]> {
    return Promise.all(this.registry.all().map((job) => this.jobStatus(job)));
  }

  private async jobStatus(job: RegisteredJob): Promise<JobStatus> {
    const { ledger, leases, clock } = this.options;
    const { definition, schedule, graceMs } = job;
    const now = clock.now();
    const [lastRun, lastSuccess, outcomes, lease, first] = await Promise.all([
      ledger.lastRun(definition.name),
      ledger.lastSuccess(definition.name),
      ledger.recentOutcomes(definition.name, 100),
      leases.current(definition.name, now),
      ledger.firstStartedAt(definition.name),
    ]);
    const failureStreak = outcomes.findIndex((status) => status === 'ok');
    const lastSuccessSlot = lastSuccess === undefined ? null : (lastSuccess.scheduled_for ?? lastSuccess.started_at);
    return {
      job: definition.name,
      schedule: definition.schedule,
      timezone: definition.timezone,
      enabled: definition.enabled,
      nextSlot: definition.enabled ? nextSlot(schedule, now) : null,
      lastRun: lastRun === undefined ? null : summarize(lastRun),
      lastSuccessAt: lastSuccess?.finished_at ?? null,
      lastSuccessSlot,
      late: definition.enabled && isLate(schedule, lastSuccessSlot, Math.min(first ?? this.createdAt, this.createdAt), graceMs, now),
      consecutiveFailures: failureStreak === -1 ? outcomes.length : failureStreak,
      leaseHolder: lease?.holder ?? null,
      overlap: definition.overlap,
      catchUp: definition.catchUp,
      graceMs,
      ...(definition.placeholder === undefined ? {} : { placeholder: definition.placeholder }),
    };
  }

  /** Stops taking runs and waits for running ones (aborting them after the drain time). */
  async stop(): Promise<void> {
    await this.runner.stop();
  }
}

/** A ledger row as callers see it. */
export function summarize(row: CronRunRow): RunSummary {
  let counts: Record<string, number> = {};
  try {
    counts = JSON.parse(row.counts) as Record<string, number>;
  } catch {
    // A row written by an older version with bad JSON: show no counts rather than fail status.
    counts = {};
  }
  return {
    id: row.id,
    job: row.job,
    scheduledFor: row.scheduled_for,
    trigger: row.trigger,
    status: row.status,
    durationMs: row.duration_ms ?? 0,
    counts,
    dryRun: row.dry_run === 1,
    ...(row.error === null ? {} : { error: row.error }),
    ...(row.status === 'skipped' && row.output !== null ? { reason: row.output } : {}),
  };
}
