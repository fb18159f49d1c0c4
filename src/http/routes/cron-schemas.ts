import type { RunStatus, RunSummary } from '../../jobs/types.js';

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
