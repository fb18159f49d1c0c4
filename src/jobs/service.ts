import type { Clock } from '../clock.js';
import type { JobOverride } from '../config/index.js';
import type { CronRunRow, CronRunsRepository } from '../db/repositories/cron-runs.js';
import type { JobControlRow, JobControlsRepository } from '../db/repositories/job-controls.js';
import type { JobLeasesRepository } from '../db/repositories/job-leases.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { decideDue } from './catch-up.js';
import { RunHistory } from './history.js';
import { lateness } from './lateness.js';
import type { LeaseTiming } from './lease.js';
import { JobRegistry, type RegisteredJob } from './registry.js';
import { JobRunner } from './runner.js';
import type { Timers } from './timers.js';
import { latestSlot, nextSlot } from './schedule.js';
import type {
  CallerInfo,
  JobDefinition,
  JobStatus,
  JobsService,
  RunFinishedListener,
  RunJobOptions,
  RunSummary,
  ScheduleRunResult,
  Trigger,
} from './types.js';

export interface JobsServiceOptions {
  readonly ledger: CronRunsRepository;
  /** Judges every lease on the database's clock, not `clock`: give it one (tests) or let it read the database's. */
  readonly leases: JobLeasesRepository;
  /** Persisted pauses (`job_controls`), read on every decision (with the ledger's last slot) so every instance honours them. */
  readonly controls: JobControlsRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly instanceId: string;
  /** Every job of this process (built-ins plus any others), before overrides. */
  readonly definitions: readonly JobDefinition[];
  /** `config.jobs`: JOB_<NAME>_<FIELD> overrides, validated here (ConfigError). */
  readonly overrides?: Readonly<Record<string, JobOverride>>;
  /** CRON_LATE_AFTER: the floor of every job's default lateness threshold (default 10 minutes). */
  readonly lateAfterMs?: number;
  /** How long stop() lets running jobs finish before aborting them (default 10 s). */
  readonly drainMs?: number;
  /** Lease TTL and heartbeat (SCHEDULER_LEASE_TTL / SCHEDULER_LEASE_HEARTBEAT, default 20 s / 5 s). */
  readonly lease?: LeaseTiming;
  /** Longest a `/cron/run` may take (CRON_RUN_MAX_TIME, default 600 000 ms). */
  readonly scheduleRunMaxMs?: number;
  /** Default real timers; a simulator passes virtual ones. */
  readonly timers?: Timers;
}

/**
 * The scheduler's service: decides what is due (pure slot maths over the
 * ledger's last slot) and hands each decision to the one runner, which
 * records and runs it, whichever trigger asked. The service only reads the
 * ledger; every write (slots, missed rows, schedule runs) is the runner's.
 */
export class DefaultJobsService implements JobsService {
  readonly registry: JobRegistry;
  readonly history: RunHistory;
  private readonly runner: JobRunner;
  private readonly listeners = new Set<RunFinishedListener>();
  private readonly createdAt: number;
  /** Per job: no slot is due before this instant (see isQuiet). */
  private readonly quietUntil = new Map<string, number>();

  constructor(private readonly options: JobsServiceOptions) {
    this.registry = new JobRegistry(options.definitions, options.overrides, options.lateAfterMs === undefined ? {} : { lateAfterMs: options.lateAfterMs });
    this.createdAt = options.clock.now();
    this.history = new RunHistory(options.ledger, this.registry);
    this.runner = new JobRunner({
      ledger: options.ledger,
      leases: options.leases,
      clock: options.clock,
      logger: options.logger,
      instanceId: options.instanceId,
      ...(options.drainMs === undefined ? {} : { drainMs: options.drainMs }),
      ...(options.lease === undefined ? {} : { lease: options.lease }),
      ...(options.scheduleRunMaxMs === undefined ? {} : { scheduleRunMaxMs: options.scheduleRunMaxMs }),
      ...(options.timers === undefined ? {} : { timers: options.timers }),
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

  /**
   * True when the last decision for `job` left every slot up to its `now`
   * recorded (run, skipped, missed, or found recorded by another instance)
   * and the next slot is still after `now`, so deciding again would read the
   * ledger for nothing. The in-process scheduler skips such jobs on a wake; `/cron/run`
   * always decides. Other instances can only record more slots, which makes
   * fewer due, so the answer stays safe across a cluster.
   */
  isQuiet(job: string, now: number): boolean {
    const until = this.quietUntil.get(job);
    return until !== undefined && now < until;
  }

  /** True while `job` runs in this process. */
  isRunning(job: string): boolean {
    return this.runner.isRunning(job);
  }

  /**
   * Decides what is due for one job at `now` (default: the clock's now) and
   * has the runner record and run it: `missed` rows for slots the catch-up or
   * DST policy gives up, then each due slot in order (late ones with trigger
   * `catch-up`). `signal` (default none) aborts the runs, as a schedule run's
   * maximum time does. Used by runDue, the in-process scheduler and a
   * simulator driving several instances with one virtual clock.
   *
   * A paused job runs nothing and records nothing; the answer is one
   * unrecorded `skipped` summary (reason `paused`) for its latest slot. After
   * a resume, slots up to the resume time count as done: catch-up applies
   * from there, so a long pause never turns into a flood of catch-up runs.
   */
  async runDueJob(job: RegisteredJob, trigger: Trigger, caller: CallerInfo, now = this.options.clock.now(), signal?: AbortSignal): Promise<RunSummary[]> {
    const { definition, schedule } = job;
    // The ledger's last slot and the job's pause, in one statement.
    const { lastSlot: recorded, control } = await this.options.controls.findWithLastSlot(definition.name);
    if (control?.paused === 1) {
      const slot = latestSlot(schedule, now);
      if (slot === null || (recorded !== null && slot <= recorded)) return [];
      return [{ id: null, job: definition.name, scheduledFor: slot, trigger, status: 'skipped', durationMs: 0, counts: {}, reason: 'paused' }];
    }
    const resumedFrom = control?.resumed_at === null || control?.resumed_at === undefined ? null : latestSlot(schedule, Number(control.resumed_at));
    const lastSlot = resumedFrom === null ? recorded : Math.max(recorded ?? resumedFrom, resumedFrom);
    const decision = decideDue(schedule, definition.catchUp, lastSlot, now);
    this.quietUntil.delete(definition.name);
    const summaries: RunSummary[] = decision.missed.length > 0 ? await this.runner.recordMissed(definition, decision.missed, now) : [];
    for (const due of decision.run) {
      const summary = await this.runner.run(definition, { slot: due.slot, trigger: due.late ? 'catch-up' : trigger, dryRun: false, caller, signal });
      if (summary !== undefined) summaries.push(summary);
    }
    // Every slot in (lastSlot, now] is recorded now (here or by another instance), unless a run was left
    // unrecorded (queue-one waiting, shutting down): then nothing is due before the next slot.
    if (!summaries.some((summary) => summary.id === null && summary.status === 'skipped')) {
      const upTo = Math.max(lastSlot ?? now, now, ...decision.run.map((due) => due.slot), ...decision.missed.map((missed) => missed.slot));
      this.quietUntil.set(definition.name, nextSlot(schedule, upTo) ?? Number.POSITIVE_INFINITY);
    }
    return summaries;
  }

  async runDue(trigger: Trigger, caller: CallerInfo): Promise<{ busy: true } | { busy: false; result: ScheduleRunResult }> {
    return this.runner.runSchedule({ trigger, caller }, async (signal) => {
      const startedAt = this.options.clock.now();
      const jobs = this.registry.all().filter((job) => job.definition.enabled);
      return (await Promise.all(jobs.map((job) => this.runDueJob(job, trigger, caller, startedAt, signal)))).flat();
    });
  }

  async runJob(name: string, options: RunJobOptions): Promise<RunSummary> {
    const { definition } = this.registry.get(name);
    // Over HTTP (an outside caller, or an admin in the console) a disabled job only dry-runs; the CLI runs it.
    const overHttp = options.trigger === 'http' || options.trigger === 'console';
    if (!definition.enabled && !options.dryRun && overHttp) {
      throw new AppError('JOB_DISABLED', `Job "${name}" is disabled; enable it with ${`JOB_${name.toUpperCase().replace(/-/g, '_')}_ENABLED=true`} or run it from the CLI.`);
    }
    if (overHttp && options.allowPaused !== true) {
      const control = await this.options.controls.find(name);
      if (control?.paused === 1) {
        const by = control.paused_by === null ? '' : ` by ${control.paused_by}`;
        throw new AppError('JOB_PAUSED', `Job "${name}" is paused${by}; resume it with \`curfew jobs resume ${name}\` or from the console.`);
      }
    }
    const summary = await this.runner.run(definition, {
      slot: null,
      trigger: options.trigger,
      dryRun: options.dryRun,
      caller: options.caller,
      onProgress: options.onProgress,
      params: options.params,
    });
    // Ad-hoc rows never conflict, so the runner always answers.
    return summary as RunSummary;
  }

  async status(): Promise<readonly JobStatus[]> {
    const controls = new Map((await this.options.controls.all()).map((row) => [row.job, row]));
    return Promise.all(this.registry.all().map((job) => this.jobStatus(job, controls.get(job.definition.name))));
  }

  /** One job's status; AppError JOB_NOT_FOUND for an unknown name. */
  async statusOf(name: string): Promise<JobStatus> {
    const job = this.registry.get(name);
    return this.jobStatus(job, await this.options.controls.find(name));
  }

  /**
   * Pauses `name` for every instance (persisted): the scheduler and
   * `/cron/run` skip it, an outside `POST /cron/jobs/<name>/run` gets
   * JOB_PAUSED, and it is never late. Pausing a paused job changes nothing.
   * A run already going finishes. AppError JOB_NOT_FOUND for an unknown name.
   */
  async pause(name: string, by: string, reason?: string): Promise<JobStatus> {
    this.registry.get(name);
    const text = reason?.trim().slice(0, 500);
    await this.options.controls.pause(name, this.options.clock.now(), by, text === undefined || text === '' ? null : text);
    this.options.logger.info({ job: name, by, reason: text }, 'job paused');
    return this.statusOf(name);
  }

  /** Resumes `name`: catch-up and lateness count from now (see runDueJob). Resuming a running job changes nothing. */
  async resume(name: string, by: string): Promise<JobStatus> {
    this.registry.get(name);
    await this.options.controls.resume(name, this.options.clock.now(), by);
    this.options.logger.info({ job: name, by }, 'job resumed');
    return this.statusOf(name);
  }

  private async jobStatus(job: RegisteredJob, control: JobControlRow | undefined): Promise<JobStatus> {
    const { ledger, leases, clock } = this.options;
    const { definition, schedule, lateAfterMs } = job;
    const now = clock.now();
    const [lastRun, lastSuccess, failures, lease, first] = await Promise.all([
      ledger.lastRun(definition.name),
      ledger.lastSuccess(definition.name),
      ledger.failureStreak(definition.name, 100),
      leases.current(definition.name),
      ledger.firstStartedAt(definition.name),
    ]);
    const lastSuccessSlot = lastSuccess === undefined ? null : (lastSuccess.scheduled_for ?? lastSuccess.started_at);
    const paused = control?.paused === 1;
    const late = lateness({
      lastSuccessSlot,
      anchor: Math.min(first ?? this.createdAt, this.createdAt),
      resumedAt: control?.resumed_at === undefined || control.resumed_at === null ? null : Number(control.resumed_at),
      lateAfterMs,
      active: definition.enabled && !paused,
      now,
    });
    return {
      job: definition.name,
      schedule: definition.schedule,
      timezone: definition.timezone,
      enabled: definition.enabled,
      nextSlot: definition.enabled ? nextSlot(schedule, now) : null,
      lastRun: lastRun === undefined ? null : summarize(lastRun),
      lastSuccessAt: lastSuccess?.finished_at ?? null,
      lastSuccessSlot,
      late: late.late,
      lateBySeconds: late.lateBySeconds,
      lateAfterMs,
      scheduleText: job.scheduleText,
      paused,
      pausedAt: paused && control?.paused_at !== null && control?.paused_at !== undefined ? Number(control.paused_at) : null,
      pausedBy: paused ? (control?.paused_by ?? null) : null,
      pauseReason: paused ? (control?.reason ?? null) : null,
      consecutiveFailures: failures,
      leaseHolder: lease?.holder ?? null,
      overlap: definition.overlap,
      catchUp: definition.catchUp,
      dst: schedule.dst,
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
    ...((row.status === 'skipped' || row.status === 'missed') && row.output !== null ? { reason: row.output } : {}),
  };
}
