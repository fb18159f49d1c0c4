import { Cron } from 'croner';

declare const parsedScheduleBrand: unique symbol;

/**
 * A cron expression and IANA zone, checked once by croner. The slot maths
 * accepts nothing else, so an invalid expression can never reach the runner.
 *
 * DST, as croner decides it (pinned by test/jobs/schedule.test.ts):
 * - fixed-time schedules (no `*` or step in the second/minute/hour fields,
 *   e.g. `30 2 * * *` or `0 1,13 * * *`): a slot in a spring-forward gap runs
 *   once at the first valid time after the gap; a slot in a repeated
 *   fall-back hour runs once, at its first occurrence;
 * - interval schedules (`* * * * *`, `0 * * * *`, `*\/5 ...`): slots follow
 *   real elapsed time; local times that do not exist are skipped and a
 *   repeated local hour has its own, distinct instants.
 * Either way a slot is an instant (epoch ms), so the ledger's unique
 * (job, scheduled_for) key makes "never twice" a database fact.
 */
export interface ParsedSchedule {
  readonly [parsedScheduleBrand]: true;
  readonly expression: string;
  readonly timezone: string;
  /** The typical gap between slots in ms (from two consecutive slots). */
  readonly periodMs: number;
  readonly cron: Cron;
}

/** A cron expression or zone croner refuses; `field` says which. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
  constructor(
    readonly field: 'expression' | 'timezone',
    message: string,
  ) {
    super(message);
  }
}

/** True when `timezone` is an IANA zone this runtime knows. */
export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

// A fixed reference for measuring the period, so parsing is pure.
const PERIOD_REFERENCE = Date.UTC(2026, 0, 5);

/**
 * Parses `expression` (5 or 6 fields; 6 adds seconds) in `timezone` (default
 * UTC). Throws ScheduleError for a bad expression, zone, or a schedule with
 * no future slot.
 */
export function parseSchedule(expression: string, timezone = 'UTC'): ParsedSchedule {
  if (!isValidTimezone(timezone)) {
    throw new ScheduleError('timezone', `unknown time zone "${timezone}"; use an IANA name such as Europe/Berlin or UTC`);
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' });
  } catch (error) {
    throw new ScheduleError('expression', `invalid cron expression "${expression}": ${(error as Error).message}`);
  }
  const [first, second] = cron.nextRuns(2, new Date(PERIOD_REFERENCE));
  if (first === undefined || second === undefined) {
    throw new ScheduleError('expression', `cron expression "${expression}" has no future slots`);
  }
  return { expression, timezone, periodMs: second.getTime() - first.getTime(), cron } as ParsedSchedule;
}

/** The first slot strictly after `after` (epoch ms), or null if none. */
export function nextSlot(schedule: ParsedSchedule, after: number): number | null {
  return schedule.cron.nextRun(new Date(after))?.getTime() ?? null;
}

/** The latest slot at or before `now`, or null if none. */
export function latestSlot(schedule: ParsedSchedule, now: number): number | null {
  // previousRuns is exclusive of its reference; +1 ms makes `now` itself count.
  const [previous] = schedule.cron.previousRuns(1, new Date(now + 1));
  return previous?.getTime() ?? null;
}

/**
 * Slots in (after, until], ascending. When there are more than `limit`, only
 * the most recent `limit` are returned and `truncated` says how many were cut.
 */
export function slotsBetween(
  schedule: ParsedSchedule,
  after: number,
  until: number,
  limit: number,
): { slots: number[]; truncated: number } {
  const slots: number[] = [];
  let truncated = 0;
  let cursor = after;
  // Jump close to `until` when the range is far longer than the limit allows.
  if (schedule.periodMs > 0 && (until - after) / schedule.periodMs > limit * 4) {
    const jumpTo = until - schedule.periodMs * limit * 2;
    truncated = Math.max(0, Math.floor((jumpTo - after) / schedule.periodMs));
    cursor = jumpTo;
  }
  for (;;) {
    const slot = nextSlot(schedule, cursor);
    if (slot === null || slot > until) break;
    slots.push(slot);
    if (slots.length > limit) {
      slots.shift();
      truncated += 1;
    }
    cursor = slot;
  }
  return { slots, truncated };
}
