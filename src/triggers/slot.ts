import { SLOT_HEADER } from './signature.js';

/** An X-Curfew-Slot value: an ISO 8601 UTC instant, seconds and milliseconds optional. */
const SLOT_FORMAT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z$/;

/** The slot a per-job trigger route would run for `job` at `now` (epoch ms); undefined for an unknown job. */
export type SlotSource = (job: string, now: number) => number | null | undefined;

/**
 * Parses an X-Curfew-Slot value to epoch ms; undefined when it is not a
 * real UTC instant in ISO 8601 form (`2026-04-01T08:00:00Z`, with optional
 * `.sss`). February 30 and hour 24 are refused, not rolled over.
 */
export function parseSlot(value: string): number | undefined {
  const match = SLOT_FORMAT.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second = '0', fraction = '0'] = match.slice(1).map((part) => part ?? '0');
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, '0')));
  const back = new Date(ms);
  const same =
    back.getUTCFullYear() === Number(year) &&
    back.getUTCMonth() === Number(month) - 1 &&
    back.getUTCDate() === Number(day) &&
    back.getUTCHours() === Number(hour) &&
    back.getUTCMinutes() === Number(minute) &&
    back.getUTCSeconds() === Number(second);
  return same ? ms : undefined;
}

/** The header's name as callers write it, for messages. */
export const SLOT_HEADER_NAME = 'X-Curfew-Slot';
export { SLOT_HEADER };
