import type { ParsedSchedule } from './schedule.js';

/** CRON_LATE_AFTER's default: seed 002's "late if the last run is older than 5–10 minutes". */
export const DEFAULT_LATE_AFTER_MS = 600_000;

const HOUR = 3_600_000;

/**
 * A job's lateness threshold when JOB_<NAME>_LATE_AFTER does not set one:
 * `max(floor, period + min(period, 1h))`, the floor being CRON_LATE_AFTER
 * (default 10m). Every minute → 10m, hourly → 2h, daily → 25h.
 */
export function defaultLateAfter(schedule: Pick<ParsedSchedule, 'periodMs'>, floorMs = DEFAULT_LATE_AFTER_MS): number {
  return Math.max(floorMs, schedule.periodMs + Math.min(schedule.periodMs, HOUR));
}

export interface LatenessInput {
  /** The slot of the last successful real run (its start for ad-hoc runs); null when it never succeeded. */
  readonly lastSuccessSlot: number | null;
  /** Where a job that never succeeded counts from (when it was first seen). */
  readonly anchor: number;
  /** The last resume after a pause: lateness counts from here when it is later. */
  readonly resumedAt: number | null;
  readonly lateAfterMs: number;
  /** A disabled or paused job is never late. */
  readonly active: boolean;
  readonly now: number;
}

export interface Lateness {
  readonly late: boolean;
  /** How long past its threshold, in whole seconds rounded up; 0 when not late. */
  readonly lateBySeconds: number;
}

/**
 * The one lateness rule, behind `/cron/status` (`late`, `late_by_seconds`),
 * the `curfew_job_late` metric and the late alert: a job is late when
 * now > (last successful slot, or the anchor when it never succeeded, or the
 * last resume when later) + late_after.
 */
export function lateness(input: LatenessInput): Lateness {
  if (!input.active) return { late: false, lateBySeconds: 0 };
  const from = Math.max(input.lastSuccessSlot ?? input.anchor, input.resumedAt ?? Number.NEGATIVE_INFINITY);
  const over = input.now - (from + input.lateAfterMs);
  return over > 0 ? { late: true, lateBySeconds: Math.ceil(over / 1000) } : { late: false, lateBySeconds: 0 };
}
