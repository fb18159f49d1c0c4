import type { MissedSlot } from './run-request.js';
import { isDstGapSlot, latestSlot, slotsBetween, type ParsedSchedule } from './schedule.js';
import type { CatchUpPolicy } from './types.js';

/** A slot to run now; `late` ones run with trigger `catch-up`. */
export interface DueSlot {
  readonly slot: number;
  readonly late: boolean;
}

/** What to do about the slots since the last recorded one. */
export interface DueDecision {
  /** Slots to run, oldest first. */
  readonly run: readonly DueSlot[];
  /** Slots the policy gives up, with why; recorded as `missed` so a gap is visible. */
  readonly missed: readonly MissedSlot[];
}

export interface DecideOptions {
  /**
   * A slot no older than this is on time (trigger `schedule`/`http`), older is
   * late. Default: the schedule's period, at most 60 s.
   */
  readonly onTimeMs?: number;
  /** Most slots considered in one decision (default 1000); older ones are ignored. */
  readonly maxSlots?: number;
}

/** The on-time tolerance for a schedule (its period, at most 60 s). */
export function onTimeTolerance(schedule: ParsedSchedule): number {
  return Math.min(60_000, schedule.periodMs);
}

/**
 * Decides, purely from (schedule, policy, last recorded slot, now), which slots
 * are due and which are missed (each with its reason):
 * - `latest`: run the most recent slot (late or not), the older ones are missed;
 * - `none`: run the most recent slot only if it is on time, everything else is missed;
 * - `all`: run every slot within the window (oldest first), older ones are missed.
 * With no recorded slot yet, only the most recent slot is considered (a new
 * install does not replay history). Under the DST policy `skip`, a slot moved
 * out of a spring-forward gap is missed with reason `dst-gap` instead of run.
 */
export function decideDue(
  schedule: ParsedSchedule,
  policy: CatchUpPolicy,
  lastSlot: number | null,
  now: number,
  options: DecideOptions = {},
): DueDecision {
  const decision = decideCatchUp(schedule, policy, lastSlot, now, options);
  if (schedule.dst !== 'skip' || !schedule.fixedTime) return decision;
  // JOB_<NAME>_DST=skip: a slot croner moved out of a spring-forward gap is not run; it is recorded missed.
  const gap = (slot: number) => isDstGapSlot(schedule, slot);
  if (!decision.run.some((due) => gap(due.slot)) && !decision.missed.some((missed) => gap(missed.slot))) return decision;
  const missed: MissedSlot[] = [
    ...decision.missed.map((m) => (gap(m.slot) ? { slot: m.slot, reason: 'dst-gap' as const } : m)),
    ...decision.run.filter((due) => gap(due.slot)).map((due) => ({ slot: due.slot, reason: 'dst-gap' as const })),
  ];
  return { run: decision.run.filter((due) => !gap(due.slot)), missed: missed.sort((a, b) => a.slot - b.slot) };
}

function decideCatchUp(schedule: ParsedSchedule, policy: CatchUpPolicy, lastSlot: number | null, now: number, options: DecideOptions): DueDecision {
  const onTimeMs = options.onTimeMs ?? onTimeTolerance(schedule);
  const maxSlots = options.maxSlots ?? 1000;
  let pending: number[];
  if (lastSlot === null) {
    const latest = latestSlot(schedule, now);
    pending = latest === null ? [] : [latest];
  } else {
    pending = slotsBetween(schedule, lastSlot, now, maxSlots).slots;
  }
  const current = pending.at(-1);
  if (current === undefined) return { run: [], missed: [] };
  const isLate = (slot: number) => now - slot > onTimeMs;
  const older = pending.slice(0, -1).map(caughtUp);

  switch (policy.kind) {
    case 'latest':
      return { run: [{ slot: current, late: isLate(current) }], missed: older };
    case 'none':
      return isLate(current) ? { run: [], missed: pending.map(caughtUp) } : { run: [{ slot: current, late: false }], missed: older };
    case 'all': {
      const from = now - policy.windowMs;
      return {
        run: pending.filter((slot) => slot >= from).map((slot) => ({ slot, late: isLate(slot) })),
        missed: pending.filter((slot) => slot < from).map(caughtUp),
      };
    }
  }
}

function caughtUp(slot: number): MissedSlot {
  return { slot, reason: 'catch-up' };
}
