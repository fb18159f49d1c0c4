const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest step delay accepted (365 days). */
export const MAX_DELAY_MS = 365 * 86_400_000;

/**
 * Parses a step delay: a whole number and a unit, `0s`, `30m`, `12h`, `2d`.
 * Returns milliseconds, or undefined when the text is not such a duration or exceeds MAX_DELAY_MS.
 */
export function parseDelay(text: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNITS[match[2] ?? ''] ?? 0);
  return ms <= MAX_DELAY_MS ? ms : undefined;
}

/** The shortest exact text for a delay (`90m` stays `90m`, 7 200 000 ms is `2h`). */
export function formatDelay(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    const size = UNITS[unit] ?? 1;
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
