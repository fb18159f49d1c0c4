import { DURATION_UNITS } from '../duration.js';
import { ConfigError } from './config-error.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The one boolean grammar for settings: 1/true/yes/on and 0/false/no/off,
 * case-insensitive. Undefined for anything else (the caller names the variable).
 */
export function parseBoolean(value: string): boolean | undefined {
  const lower = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  return undefined;
}

/** Typed readers over an environment; every failure names the variable. */
export class EnvReader {
  constructor(private readonly env: Env) {}

  /** The trimmed value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = parseBoolean(value);
    if (parsed === undefined) throw new ConfigError(name, `expected true or false, got "${value}"`);
    return parsed;
  }

  integer(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `expected a whole number, got "${value}"`);
    const parsed = Number(value);
    if (range.min !== undefined && parsed < range.min) {
      throw new ConfigError(name, `must be at least ${range.min}, got ${parsed}`);
    }
    if (range.max !== undefined && parsed > range.max) {
      throw new ConfigError(name, `must be at most ${range.max}, got ${parsed}`);
    }
    return parsed;
  }

  /**
   * A whole number in the variable's documented unit (`s`, `m`, `d`), returned
   * in milliseconds: Config holds every duration in ms, and this is where the
   * unit is converted. The fallback and range are in the variable's unit, so
   * errors speak the unit the user wrote.
   */
  wholeUnitsAsMs(name: string, unit: 's' | 'm' | 'd', fallback: number, range: { min?: number; max?: number } = {}): number {
    return this.integer(name, fallback, range) * (DURATION_UNITS[unit] ?? 1000);
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = choices.find((choice) => choice === value.toLowerCase());
    if (match === undefined) {
      throw new ConfigError(name, `expected one of ${choices.join(', ')}, got "${value}"`);
    }
    return match;
  }

  /** A comma-separated list; blanks are dropped. */
  list(name: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `is not a valid URL (expected ${protocols.join(' or ')}...)`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
    }
    return value;
  }

  /** Every variable whose name starts with `prefix`. */
  withPrefix(prefix: string): Array<[string, string]> {
    return Object.entries(this.env)
      .filter((entry): entry is [string, string] => entry[0].startsWith(prefix) && entry[1] !== undefined)
      .map(([key, value]) => [key, value.trim()]);
  }
}
