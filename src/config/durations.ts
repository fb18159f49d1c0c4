import { parseDuration } from '../duration.js';
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/**
 * Reads a duration variable (`500ms`, `30s`, `10m`, `1h`, `1d`; a bare number is
 * seconds) in milliseconds, `fallbackMs` when unset. Throws ConfigError naming
 * the variable when it does not parse or lies outside [min, max].
 */
export function readDuration(reader: EnvReader, name: string, fallbackMs: number, range: { min: number; max?: number }): number {
  const raw = reader.raw(name);
  if (raw === undefined) return fallbackMs;
  const ms = parseDuration(raw);
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (ms === undefined || ms < range.min || ms > max) {
    const bounds = range.max === undefined ? `at least ${range.min} ms` : `between ${range.min} ms and ${range.max} ms`;
    throw new ConfigError(name, `expected a duration ${bounds} such as 30s, 10m or 500ms, got "${raw}"`);
  }
  return ms;
}
