import { Cron } from 'croner';

declare const parsedScheduleBrand: unique symbol;

/**
 * What a job does with a fixed-time slot that a DST change moves
 * (`JOB_<NAME>_DST`, default `run-once`):
 * - `skip`: a slot in a spring-forward gap is recorded `missed` (`dst-gap`);
 * - `run-once`: a gap slot runs at the first valid instant after the gap, a
 *   repeated (fall-back) time runs at its first occurrence only;
 * - `run-each`: as run-once in a gap; a repeated time runs at both
 *   occurrences, two distinct slots.
 */
export type DstPolicy = 'skip' | 'run-once' | 'run-each';

export const DST_POLICIES: readonly DstPolicy[] = ['skip', 'run-once', 'run-each'];

/**
 * A cron expression, IANA zone and DST policy, checked once by croner. The
 * slot maths accepts nothing else, so an invalid expression can never reach
 * the runner.
 *
 * DST (pinned by test/jobs/schedule.test.ts and test/jobs/dst-policy.test.ts):
 * - fixed-time schedules (no `*`, `?` or step in the second/minute/hour
 *   fields, e.g. `30 2 * * *` or `0 1,13 * * *`) follow the job's DstPolicy;
 *   croner's own rule is `run-once`;
 * - interval schedules (`* * * * *`, `0 * * * *`, `*\/5 ...`) follow real
 *   elapsed time whatever the policy: local times that do not exist have no
 *   slot and a repeated local hour has its own, distinct instants.
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
  readonly dst: DstPolicy;
  /** No wildcard or step in seconds, minutes and hours: the DST policy applies. */
  readonly fixedTime: boolean;
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

/** croner's `no-wildcard` rule: no `*`, `?` or step in the second, minute and hour fields. */
function isFixedTime(expression: string): boolean {
  const fields = expression.trim().split(/\s+/);
  const timeFields = fields.length === 6 ? fields.slice(0, 3) : fields.slice(0, 2);
  return timeFields.every((field) => !/[*?/]/.test(field));
}

/**
 * Parses `expression` (5 or 6 fields; 6 adds seconds) in `timezone` (default
 * UTC) with DST policy `dst` (default `run-once`). Throws ScheduleError for a
 * bad expression, zone, or a schedule with no future slot.
 */
export function parseSchedule(expression: string, timezone = 'UTC', dst: DstPolicy = 'run-once'): ParsedSchedule {
  // Parsed schedules are immutable: several registries in one process (instances of a simulation, tests) share one.
  const key = `${expression}\u0000${timezone}\u0000${dst}`;
  let parsed = parsedSchedules.get(key);
  if (parsed === undefined) {
    parsed = parse(expression, timezone, dst);
    if (parsedSchedules.size >= MAX_PARSED) parsedSchedules.delete(parsedSchedules.keys().next().value as string);
    parsedSchedules.set(key, parsed);
  }
  return parsed;
}

const parsedSchedules = new Map<string, ParsedSchedule>();
const MAX_PARSED = 1000;
// croner computes a named zone's offsets with Intl on every step; UTC needs none (about 8x faster, same slots).
const UTC_NAMES = new Set(['UTC', 'Etc/UTC']);

function parse(expression: string, timezone: string, dst: DstPolicy): ParsedSchedule {
  if (!isValidTimezone(timezone)) {
    throw new ScheduleError('timezone', `unknown time zone "${timezone}"; use an IANA name such as Europe/Berlin or UTC`);
  }
  let cron: Cron;
  try {
    const zone = UTC_NAMES.has(timezone) ? { utcOffset: 0 } : { timezone };
    cron = new Cron(expression, { ...zone, paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' });
  } catch (error) {
    throw new ScheduleError('expression', `invalid cron expression "${expression}": ${(error as Error).message}`);
  }
  const [first, second] = cron.nextRuns(2, new Date(PERIOD_REFERENCE));
  if (first === undefined || second === undefined) {
    throw new ScheduleError('expression', `cron expression "${expression}" has no future slots`);
  }
  return { expression, timezone, periodMs: second.getTime() - first.getTime(), cron, dst, fixedTime: isFixedTime(expression) } as ParsedSchedule;
}

/**
 * Known answers of nextSlot per schedule: `{ after, next }` says there is no
 * slot in (after, next), so any `x` in [after, next) has the same next slot.
 * A scheduler asks for the next slot from "now" and from the last recorded
 * slot on every wake, and both stay inside one such interval until the slot
 * passes; croner's time-zone search is the costly part (issue 13 §1 profile).
 * The slots are a fixed set per schedule, so the memo cannot change an answer.
 */
interface KnownGap {
  after: number;
  next: number | null;
}
const KNOWN_GAPS = 8;
const knownGaps = new WeakMap<ParsedSchedule, KnownGap[]>();

/** The first slot strictly after `after` (epoch ms), or null if none. Memoised per schedule (see KnownGap). */
export function nextSlot(schedule: ParsedSchedule, after: number): number | null {
  let gaps = knownGaps.get(schedule);
  if (gaps === undefined) knownGaps.set(schedule, (gaps = []));
  for (let i = 0; i < gaps.length; i += 1) {
    const gap = gaps[i]!;
    if (after >= gap.after && (gap.next === null || after < gap.next)) {
      // Most recently used first, so a scheduler's two questions are found at once.
      if (i > 0) gaps.splice(0, 0, ...gaps.splice(i, 1));
      return gap.next;
    }
  }
  // A known slot `from` at or before `after` (the end of a known gap): when the slot after it is past
  // `after`, the gap starts at that slot, so instances whose clocks differ by a few seconds, and the
  // scheduler's several wakes between two slots, share one answer instead of one croner search each.
  let from = after;
  for (const gap of gaps) {
    if (gap.next !== null && gap.next <= after && (from === after || gap.next > from)) from = gap.next;
  }
  let next = computeNextSlot(schedule, from);
  if (from !== after && (next === null || next <= after)) {
    from = after;
    next = computeNextSlot(schedule, after);
  }
  gaps.unshift({ after: from, next });
  if (gaps.length > KNOWN_GAPS) gaps.pop();
  return next;
}

function computeNextSlot(schedule: ParsedSchedule, after: number): number | null {
  let next = schedule.cron.nextRun(new Date(after))?.getTime() ?? null;
  // run-each: the second occurrence of a repeated time is a slot of its own.
  for (const twin of recentTwins(schedule, after)) {
    if (twin > after && (next === null || twin < next)) next = twin;
  }
  return next;
}

/** The latest slot at or before `now`, or null if none. */
export function latestSlot(schedule: ParsedSchedule, now: number): number | null {
  // previousRuns is exclusive of its reference; +1 ms makes `now` itself count.
  const [previous] = schedule.cron.previousRuns(1, new Date(now + 1));
  let latest = previous?.getTime() ?? null;
  for (const twin of recentTwins(schedule, now)) {
    if (twin <= now && (latest === null || twin > latest)) latest = twin;
  }
  return latest;
}

/**
 * True when `slot` is not the local time its expression names: croner moved
 * it out of a spring-forward gap (02:30 that day did not exist).
 */
export function isDstGapSlot(schedule: ParsedSchedule, slot: number): boolean {
  return !schedule.cron.match(new Date(slot));
}

// A fall-back repeats at most two hours (30 min and 1 h are the shifts in use).
const FOLD_SHIFTS_MS = [1_800_000, 3_600_000, 7_200_000];
const formatters = new Map<string, Intl.DateTimeFormat>();

function wallTime(ms: number, timezone: string): string {
  let format = formatters.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timezone, format);
  }
  return format.format(ms);
}

/** The second occurrence of a slot's local time (a repeated fall-back hour), or null. */
export function secondOccurrence(schedule: ParsedSchedule, slot: number): number | null {
  const wall = wallTime(slot, schedule.timezone);
  for (const shift of FOLD_SHIFTS_MS) {
    if (wallTime(slot + shift, schedule.timezone) === wall) return slot + shift;
  }
  return null;
}

/** run-each, fixed-time: second occurrences of the slots in the two hours up to `at`. */
function recentTwins(schedule: ParsedSchedule, at: number): number[] {
  if (schedule.dst !== 'run-each' || !schedule.fixedTime) return [];
  const horizon = at - FOLD_SHIFTS_MS[FOLD_SHIFTS_MS.length - 1]!;
  const twins: number[] = [];
  // One slot at a time, newest first: a daily schedule stops after one look.
  let reference = at + 1;
  for (let i = 0; i < 256; i += 1) {
    const [run] = schedule.cron.previousRuns(1, new Date(reference));
    if (run === undefined || run.getTime() < horizon) break;
    const twin = secondOccurrence(schedule, run.getTime());
    if (twin !== null) twins.push(twin);
    reference = run.getTime();
  }
  return twins;
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
