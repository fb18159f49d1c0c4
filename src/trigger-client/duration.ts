const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `500ms`, `10s`, `59s`, `2m`, `1h` (a bare number
 * means seconds) into milliseconds. Returns undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[match[2] ?? 's'] ?? 1000;
  const value = Number(match[1]) * unit;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}
