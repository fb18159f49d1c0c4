import type { Clock } from '../clock.js';
import type { RunHistory } from './history.js';
import type { DstPolicy } from './schedule.js';

export type { DstPolicy } from './schedule.js';

/**
 * The contract between the scheduler (src/jobs), its adapters (HTTP trigger
 * routes, CLI, in-process loop) and the jobs themselves. src/jobs owns it and
 * may refine it; adapters use only what is exported here.
 */

export type OverlapPolicy = 'skip' | 'queue-one';

/** What to do with slots that passed while nothing fired. */
export type CatchUpPolicy =
  | { readonly kind: 'latest' }
  | { readonly kind: 'none' }
  | { readonly kind: 'all'; readonly windowMs: number };

export type Trigger = 'schedule' | 'http' | 'cli' | 'catch-up' | 'console';

export type RunStatus = 'running' | 'ok' | 'failed' | 'skipped' | 'timed_out' | 'missed';

/** What a job reports, e.g. `{ deleted: 1203, kept: 4 }`. */
export type Counts = Readonly<Record<string, number>>;

export interface Progress {
  readonly done: number;
  readonly total?: number;
  readonly message?: string;
}

/**
 * Parameters for one run (e.g. logout-all-users' `excludeRoles`,
 * `excludeUsers`), carried on the run request; the job's body checks them.
 */
export type RunParams = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/** What a job function receives. */
export interface JobContext {
  /** Count what would be done; change nothing. */
  readonly dryRun: boolean;
  /** Aborted on timeout, lease loss or shutdown; stop at the next batch boundary. */
  readonly signal: AbortSignal;
  /** Report progress (rows done, total); shown by the CLI and stored in the run's counts. */
  progress(update: Progress): void;
  readonly clock: Clock;
  /** The slot (epoch ms) this run is for; null for ad-hoc runs. */
  readonly scheduledFor: number | null;
  /** The run's ledger id. */
  readonly runId: number;
  /** This run's parameters (empty unless the caller passed some). */
  readonly params: RunParams;
}

/** A job's body: does the work (or counts it when dryRun) and returns counts. */
export type JobBody = (context: JobContext) => Promise<Counts>;

export interface JobDefinition {
  /** kebab-case, the public name (`flush-expired-tokens`). */
  readonly name: string;
  readonly description: string;
  /** Cron expression (5 or 6 fields) read by croner. */
  readonly schedule: string;
  /** IANA zone, default UTC. */
  readonly timezone: string;
  /** A fixed-time slot moved by DST: skip | run-once | run-each (JOB_<NAME>_DST). Undefined: run-once. */
  readonly dst?: DstPolicy;
  readonly enabled: boolean;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  /**
   * Lease time-to-live in ms, renewed every heartbeat while running. Undefined:
   * the scheduler's SCHEDULER_LEASE_TTL (default 20 000).
   */
  readonly leaseTtlMs?: number;
  /** Abort the run after this many ms (the maximum run time; default 600 000). */
  readonly timeoutMs: number;
  /** Extra attempts after a failure, with exponential back-off from baseDelayMs. */
  readonly retries: { readonly max: number; readonly baseDelayMs: number };
  /**
   * Set while the job is a no-op waiting for the issue that gives it its real
   * body; `curfew jobs list` shows it.
   */
  readonly placeholder?: string;
  /**
   * How long after its last successful slot a job may stay without success
   * before it is late (JOB_<NAME>_LATE_AFTER). Default: max(CRON_LATE_AFTER,
   * period + min(period, 1h)); see lateness.ts.
   */
  readonly lateAfterMs?: number;
  run(context: JobContext): Promise<Counts>;
}

/** Who asked, for the ledger (never any credential). */
export interface CallerInfo {
  readonly ip?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
}

/** One job's outcome within a trigger call, as returned to callers. */
export interface RunSummary {
  readonly id: number | null;
  readonly job: string;
  readonly scheduledFor: number | null;
  readonly trigger: Trigger;
  readonly status: RunStatus;
  readonly durationMs: number;
  readonly counts: Counts;
  readonly error?: string;
  /** Why a run was skipped ("already running on instance X") or a slot missed (`catch-up`, `dst-gap`). */
  readonly reason?: string;
  readonly dryRun?: boolean;
}

/** What `onRunFinished` listeners receive after every finished run (not for `missed` slots). */
export interface RunFinishedEvent {
  readonly summary: RunSummary;
  readonly definition: JobDefinition;
  /** The instance that ran it. */
  readonly instanceId: string;
}

export type RunFinishedListener = (event: RunFinishedEvent) => void;

export interface ScheduleRunResult {
  /** The ledger id of this schedule-run itself. */
  readonly cronRunId: number;
  readonly durationMs: number;
  readonly runs: readonly RunSummary[];
}

export interface JobStatus {
  readonly job: string;
  readonly schedule: string;
  readonly timezone: string;
  readonly enabled: boolean;
  readonly nextSlot: number | null;
  readonly lastRun: RunSummary | null;
  readonly lastSuccessAt: number | null;
  /** Past its lateness threshold (never while disabled or paused); see lateness.ts. */
  readonly late: boolean;
  /** Whole seconds past the threshold, 0 when not late. */
  readonly lateBySeconds: number;
  /** The job's lateness threshold (JOB_<NAME>_LATE_AFTER, CRON_LATE_AFTER or the default). */
  readonly lateAfterMs: number;
  /** The schedule in words (cronstrue), e.g. "At 02:00 AM". */
  readonly scheduleText: string;
  /** Paused by an operator (persisted; every instance skips it). */
  readonly paused: boolean;
  readonly pausedAt: number | null;
  readonly pausedBy: string | null;
  readonly pauseReason: string | null;
  readonly consecutiveFailures: number;
  readonly leaseHolder: string | null;
  readonly placeholder?: string;
  /** The slot of the last successful (non-dry) run; its start time for ad-hoc runs. */
  readonly lastSuccessSlot: number | null;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  /** The DST policy (run-once unless JOB_<NAME>_DST says otherwise). */
  readonly dst?: DstPolicy;
}

/** How to run one job now (`runJob`). */
export interface RunJobOptions {
  readonly dryRun: boolean;
  readonly trigger: Trigger;
  readonly caller: CallerInfo;
  readonly onProgress?: (p: Progress) => void;
  /** Parameters for this run only (e.g. `{ excludeRoles: ['admin'] }` for logout-all-users). Default none. */
  readonly params?: RunParams;
  /**
   * Run even when the job is paused: an admin's explicit "Run now" / "Dry
   * run" from the console. Default false: an `http` run of a paused job is
   * refused with JOB_PAUSED (the CLI, an operator at the machine, may run it).
   */
  readonly allowPaused?: boolean;
}

/** The scheduler's face to adapters (HTTP trigger routes, CLI, in-process loop). */
export interface JobsService {
  /** The run ledger as the console reads it: filtered, paged history and one run in full. */
  readonly history: RunHistory;
  /** Registered jobs after configuration overrides. */
  definitions(): readonly JobDefinition[];
  /**
   * Runs every due job (Laravel `schedule:run` semantics plus the catch-up
   * policy). Resolves `{ busy: true }` when another schedule-run holds the
   * `schedule-run` lease.
   */
  runDue(trigger: Trigger, caller: CallerInfo): Promise<{ busy: true } | { busy: false; result: ScheduleRunResult }>;
  /**
   * Runs one job now (ad-hoc, no slot). Throws AppError JOB_NOT_FOUND for an
   * unknown name, JOB_DISABLED for a real (non-dry) `http` run of a disabled job,
   * JOB_PAUSED for an `http` run of a paused job (unless `allowPaused`).
   * Resolves status `skipped` when the job's lease is held elsewhere.
   */
  runJob(name: string, options: RunJobOptions): Promise<RunSummary>;
  status(): Promise<readonly JobStatus[]>;
  /** One job's status; AppError JOB_NOT_FOUND for an unknown name. */
  statusOf(name: string): Promise<JobStatus>;
  /** Pauses a job for every instance (persisted); `by` names who (an admin's e-mail, `cli:<user>`). JOB_NOT_FOUND if unknown. */
  pause(name: string, by: string, reason?: string): Promise<JobStatus>;
  /** Resumes a paused job; catch-up and lateness count from the resume. JOB_NOT_FOUND if unknown. */
  resume(name: string, by: string): Promise<JobStatus>;
  /**
   * Calls `listener` after every finished run on this instance (metrics,
   * alerts). Listener errors are logged, never thrown into the runner.
   * Returns an unsubscribe function.
   */
  onRunFinished(listener: RunFinishedListener): () => void;
}
