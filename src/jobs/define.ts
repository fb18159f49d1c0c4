import type { CatchUpPolicy, DstPolicy, JobBody, JobDefinition, OverlapPolicy } from './types.js';

/** What a job declares; everything but name, description, schedule and run has a default. */
export interface JobSpec {
  readonly name: string;
  readonly description: string;
  readonly schedule: string;
  /** Default UTC. */
  readonly timezone?: string;
  /** Default `run-once` (croner's rule); see DstPolicy. */
  readonly dst?: DstPolicy;
  /** Default true. */
  readonly enabled?: boolean;
  /** Default `skip`. */
  readonly overlap?: OverlapPolicy;
  /** Default `latest`. */
  readonly catchUp?: CatchUpPolicy;
  /** Default: the scheduler's SCHEDULER_LEASE_TTL (20 s), renewed every heartbeat while the job runs. */
  readonly leaseTtlMs?: number;
  /** The maximum run time; default 600 000 (10 minutes). */
  readonly timeoutMs?: number;
  /** Default no retries, 1 s base back-off. */
  readonly retries?: { readonly max: number; readonly baseDelayMs: number };
  readonly placeholder?: string;
  /** Default: see lateness.ts (JOB_<NAME>_LATE_AFTER overrides it). */
  readonly lateAfterMs?: number;
  readonly run: JobBody;
}

export const DEFAULT_TIMEOUT_MS = 600_000;

/** Fills a job's defaults. */
export function defineJob(spec: JobSpec): JobDefinition {
  return {
    timezone: 'UTC',
    enabled: true,
    overlap: 'skip',
    catchUp: { kind: 'latest' },
    timeoutMs: DEFAULT_TIMEOUT_MS,
    retries: { max: 0, baseDelayMs: 1000 },
    ...spec,
  };
}
