import { DURATION_UNITS as UNITS, parseDuration } from '../duration.js';

/** The longest step delay accepted (365 days). */
export const MAX_DELAY_MS = 365 * 86_400_000;

/**
 * Parses a step delay: the stricter subset of the one duration grammar
 * (src/duration.ts) that definitions store, a whole number of up to six digits
 * and a required lower-case unit s, m, h or d: `0s`, `30m`, `12h`, `2d`.
 * Returns milliseconds, or undefined when the text is not such a duration or exceeds MAX_DELAY_MS.
 */
export function parseDelay(text: string): number | undefined {
  if (!/^\d{1,6}[smhd]$/.test(text.trim())) return undefined;
  const ms = parseDuration(text);
  return ms !== undefined && ms <= MAX_DELAY_MS ? ms : undefined;
}

/** The shortest exact text for a delay (`90m` stays `90m`, 7 200 000 ms is `2h`). */
export function formatDelay(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    const size = UNITS[unit] ?? 1;
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
