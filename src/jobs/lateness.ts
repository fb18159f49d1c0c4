import { nextSlot, type ParsedSchedule } from './schedule.js';

/**
 * True when a job's last success is too old: its next slot after the last
 * successful slot (or after `anchor`, e.g. the first time the job was seen,
 * when it never succeeded) is more than `graceMs` in the past.
 */
export function isLate(
  schedule: ParsedSchedule,
  lastSuccessSlot: number | null,
  anchor: number,
  graceMs: number,
  now: number,
): boolean {
  const from = lastSuccessSlot ?? anchor;
  const expected = nextSlot(schedule, from);
  return expected !== null && now > expected + graceMs;
}

/** The default lateness grace: the job's period, at least 1 minute, at most 1 hour. */
export function defaultGrace(schedule: ParsedSchedule): number {
  return Math.min(3_600_000, Math.max(60_000, schedule.periodMs));
}
