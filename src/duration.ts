/**
 * The one duration grammar of curfew (environment variables, `curfew trigger`
 * options, JOB_<NAME>_* overrides, sequence step delays):
 *
 *   duration = number [unit]        number = digits ["." digits]
 *   unit     = "ms" | "s" | "m" | "h" | "d"   (case-insensitive)
 *
 * A bare number means seconds; surrounding blanks are ignored; fractions are
 * rounded to whole milliseconds (`1.5s` is 1500). Negative numbers, spaces
 * inside and words (`5 minutes`) are refused. Callers add their own bounds.
 * Sequence step delays use the stricter subset in parseDelay (sequences/duration.ts):
 * whole numbers with a required unit of s, m, h or d.
 */
export const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration (grammar above) into milliseconds; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const unit = DURATION_UNITS[match[2] ?? 's'] ?? 1000;
  const value = Number(match[1]) * unit;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}
