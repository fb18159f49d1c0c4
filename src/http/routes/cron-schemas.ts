import type { JobStatus, RunStatus, RunSummary } from '../../jobs/types.js';

/** Response and query schemas shared by the trigger routes. */

const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

export const runSummarySchema = {
  type: 'object',
  properties: {
    id: { type: ['integer', 'null'] },
    job: { type: 'string' },
    scheduled_for: isoOrNull,
    trigger: { type: 'string' },
    status: { type: 'string' },
    duration_ms: { type: 'number' },
    counts: { type: 'object', additionalProperties: { type: 'number' } },
    dry_run: { type: 'boolean' },
    error: { type: 'string' },
    reason: { type: 'string' },
  },
  required: ['id', 'job', 'scheduled_for', 'trigger', 'status', 'duration_ms', 'counts'],
} as const;

/** The `?token=` query parameter every trigger route tolerates (used only when enabled). */
export const tokenQuery = { token: { type: 'string', maxLength: 512 } } as const;

export const okMessageSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, message: { type: 'string' } },
  required: ['ok', 'message'],
} as const;

export interface RunSummaryBody {
  id: number | null;
  job: string;
  scheduled_for: string | null;
  trigger: string;
  status: RunStatus;
  duration_ms: number;
  counts: Record<string, number>;
  dry_run?: boolean;
  error?: string;
  reason?: string;
}

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** A run summary as HTTP callers see it (snake_case, ISO times). */
export function runSummaryBody(run: RunSummary): RunSummaryBody {
  return {
    id: run.id,
    job: run.job,
    scheduled_for: iso(run.scheduledFor),
    trigger: run.trigger,
    status: run.status,
    duration_ms: run.durationMs,
    counts: { ...run.counts },
    ...(run.dryRun === undefined ? {} : { dry_run: run.dryRun }),
    ...(run.error === undefined ? {} : { error: run.error }),
    ...(run.reason === undefined ? {} : { reason: run.reason }),
  };
}

/** A run that did its work (or rightly did nothing). Failed and timed-out runs are not. */
export function succeeded(run: RunSummary): boolean {
  return run.status === 'ok' || run.status === 'skipped';
}

/** One job in `/cron/status` and the admin job actions' answers. */
export const jobStatusSchema = {
  type: 'object',
  properties: {
    job: { type: 'string' },
    schedule: { type: 'string' },
    schedule_text: { type: 'string', description: 'The schedule in words (cronstrue), e.g. "At 02:00 AM".' },
    timezone: { type: 'string' },
    enabled: { type: 'boolean' },
    paused: { type: 'boolean' },
    paused_at: isoOrNull,
    paused_by: { type: ['string', 'null'] },
    pause_reason: { type: ['string', 'null'] },
    next_slot: isoOrNull,
    last_run: { anyOf: [runSummarySchema, { type: 'null' }] },
    last_success_at: isoOrNull,
    late: { type: 'boolean' },
    late_after_seconds: { type: 'integer', description: 'JOB_<NAME>_LATE_AFTER, else max(CRON_LATE_AFTER, period + min(period, 1h)).' },
    late_by_seconds: { type: 'integer', description: 'Seconds past the threshold; 0 when not late.' },
    consecutive_failures: { type: 'integer' },
    lease_holder: { type: ['string', 'null'] },
    placeholder: { type: 'string' },
  },
  required: [
    'job', 'schedule', 'schedule_text', 'timezone', 'enabled', 'paused', 'paused_at', 'paused_by', 'pause_reason', 'next_slot', 'last_run',
    'last_success_at', 'late', 'late_after_seconds', 'late_by_seconds', 'consecutive_failures', 'lease_holder',
  ],
} as const;

/** A job's status as HTTP callers see it (snake_case, ISO times, seconds). */
export function jobStatusBody(status: JobStatus) {
  return {
    job: status.job,
    schedule: status.schedule,
    schedule_text: status.scheduleText,
    timezone: status.timezone,
    enabled: status.enabled,
    paused: status.paused,
    paused_at: iso(status.pausedAt),
    paused_by: status.pausedBy,
    pause_reason: status.pauseReason,
    next_slot: iso(status.nextSlot),
    last_run: status.lastRun === null ? null : runSummaryBody(status.lastRun),
    last_success_at: iso(status.lastSuccessAt),
    late: status.late,
    late_after_seconds: Math.round(status.lateAfterMs / 1000),
    late_by_seconds: status.lateBySeconds,
    consecutive_failures: status.consecutiveFailures,
    lease_holder: status.leaseHolder,
    ...(status.placeholder === undefined ? {} : { placeholder: status.placeholder }),
  };
}
