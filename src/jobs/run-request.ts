import type { CronRunsRepository } from '../db/repositories/cron-runs.js';
import { redactText } from '../logger.js';
import type { CallerInfo, Counts, Progress, RunParams, RunStatus, RunSummary, Trigger } from './types.js';

/** The ledger operations the runner needs (the cron_runs repository); no one else writes them. */
export type RunLedger = Pick<CronRunsRepository, 'insertSlot' | 'insert' | 'finish' | 'updateCounts' | 'abandonRunning' | 'insertMissed'>;

/** One request to run a job: a slot (from a trigger or the scheduler) or ad-hoc (slot null). */
export interface RunRequest {
  readonly slot: number | null;
  readonly trigger: Trigger;
  readonly dryRun: boolean;
  readonly caller: CallerInfo;
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Parameters for this run only (e.g. logout-all-users exclusions); the body sees them as `context.params`. Default none. */
  readonly params?: RunParams | undefined;
  /** Aborts the run like a timeout (e.g. the schedule run's maximum time). Default none. */
  readonly signal?: AbortSignal | undefined;
}

/** A slot the catch-up or DST policy gives up, and why (`catch-up`, `dst-gap`). */
export interface MissedSlot {
  readonly slot: number;
  readonly reason: MissedReason;
}

/** Why a slot is recorded `missed`: the catch-up policy gave it up, or it fell in a DST gap under `JOB_<NAME>_DST=skip`. */
export type MissedReason = 'catch-up' | 'dst-gap';

/** One `/cron/run` (or `runDue`) call: who asked and how. */
export interface ScheduleRunRequest {
  readonly trigger: Trigger;
  readonly caller: CallerInfo;
}

/** Thrown into a run's signal when it outlives its time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** How one run ended, before it is written to the ledger. */
export interface Outcome {
  readonly status: Exclude<RunStatus, 'running' | 'missed'>;
  readonly counts: Counts;
  /** What the body threw (kept whole: stack and cause go to the log and `error_detail`). */
  readonly error?: unknown;
  readonly reason?: string;
  readonly attempts?: number;
}

/** Short, single-line, secret-free text for the ledger. */
export function shortText(text: string, max: number): string {
  const clean = redactText(text).replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Only finite numbers survive from what a body returned. */
export function cleanCounts(counts: unknown): Record<string, number> {
  const result: Record<string, number> = {};
  if (counts !== null && typeof counts === 'object') {
    for (const [key, value] of Object.entries(counts)) {
      if (typeof value === 'number' && Number.isFinite(value)) result[key] = value;
    }
  }
  return result;
}

/** `deleted=3 kept=1`, prefixed with the placeholder note for no-op jobs. */
export function describeCounts(counts: Counts, placeholder: string | undefined): string {
  const text = Object.entries(counts)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return placeholder === undefined ? text : `placeholder: ${placeholder}${text === '' ? '' : ` (${text})`}`;
}

/** A summary for a run that was never written to the ledger. */
export function unrecordedSummary(job: string, request: RunRequest, reason: string): RunSummary {
  return { id: null, job, scheduledFor: request.slot, trigger: request.trigger, status: 'skipped', durationMs: 0, counts: {}, reason };
}
