import type { Generated } from 'kysely';

// Tables owned by src/jobs (run ledger, leases). Times are epoch ms.

/** The run ledger: one row per run, per recorded slot, per missed slot. */
export interface CronRunsTable {
  id: Generated<number>;
  job: string;
  /** The slot (epoch ms); null for ad-hoc runs. UNIQUE (job, scheduled_for). */
  scheduled_for: number | null;
  trigger: 'schedule' | 'http' | 'cli' | 'catch-up' | 'console';
  status: 'running' | 'ok' | 'failed' | 'skipped' | 'timed_out' | 'missed';
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  /** JSON text of the job's counts (progress while running). */
  counts: string;
  /** Short human output (or the reason for a skip). */
  output: string | null;
  /** Short error message, redacted. */
  error: string | null;
  /** The whole error of a failed run: stack and `cause` chain, redacted, bounded (migration 0012). */
  error_detail: Generated<string | null>;
  /** JSON of the run's parameters (RunRequest.params), null when none (migration 0014). */
  params: Generated<string | null>;
  caller_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  instance_id: string;
  /** 0/1 */
  dry_run: number;
}

/** One row per job while some instance holds (or recently held) its lease. */
export interface JobLeasesTable {
  job: string;
  holder: string;
  lease_until: number;
  acquired_at: number;
  /** The holder's last heartbeat (null before migration 0012: read acquired_at). */
  renewed_at: Generated<number | null>;
}

/** Operator controls per job (migration 0014): one row once a job was first paused. */
export interface JobControlsTable {
  job: string;
  /** 0/1 */
  paused: number;
  paused_at: number | null;
  /** Who paused it: an admin's e-mail, or `cli:<user>`. */
  paused_by: string | null;
  reason: string | null;
  /** The last resume: catch-up and lateness count from here, not from the slots skipped while paused. */
  resumed_at: number | null;
  resumed_by: string | null;
}

export interface SchedulerTables {
  cron_runs: CronRunsTable;
  job_leases: JobLeasesTable;
  job_controls: JobControlsTable;
}
