import { DURATION_UNITS } from '../duration.js';
import { ConfigError } from './config-error.js';

/** One trigger throttle tier: at most `max` calls per `windowMs`, per route and caller. */
export interface ThrottleTier {
  readonly max: number;
  readonly windowMs: number;
}

/**
 * The default: 30 calls per 10 minutes per route and caller. A caller
 * firing every minute uses 10 of them, which leaves room for its retries
 * (`curfew trigger` retries up to 3 times on 5xx) and an operator's manual
 * call. Seed 002's stricter 10 per 10 minutes is `CRON_THROTTLE=10/10m`.
 */
export const DEFAULT_THROTTLE: readonly ThrottleTier[] = [{ max: 30, windowMs: 600_000 }];

const TIER = /^(\d{1,9})\s*\/\s*(\d{1,9})?\s*(s|m|h|d)?$/;

/**
 * Parses `CRON_THROTTLE`, a comma list of `<max>/<window>` tiers such as
 * `10/10m,1/1m` (window in seconds, or with s, m, h or d). Throws
 * ConfigError naming the variable for a malformed tier, a zero, or two
 * tiers with the same window.
 */
export function parseThrottleTiers(raw: string): ThrottleTier[] {
  const tiers: ThrottleTier[] = [];
  for (const part of raw.split(',').map((item) => item.trim())) {
    const match = TIER.exec(part.toLowerCase());
    const count = match?.[2] ?? (match?.[3] === undefined ? undefined : '1');
    if (!match || count === undefined) {
      throw new ConfigError('CRON_THROTTLE', `"${part}" is not a tier; write <max>/<window>, e.g. 10/10m,1/1m (window in s, m, h or d; plain numbers are seconds)`);
    }
    const max = Number(match[1]);
    const windowMs = Number(count) * (DURATION_UNITS[match[3] ?? 's'] ?? 1000);
    if (max < 1 || windowMs < 1000) throw new ConfigError('CRON_THROTTLE', `"${part}": the count and the window must be at least 1`);
    if (tiers.some((tier) => tier.windowMs === windowMs)) {
      throw new ConfigError('CRON_THROTTLE', `two tiers share the window ${windowMs / 1000} s; give each tier its own window`);
    }
    tiers.push({ max, windowMs });
  }
  return tiers;
}
