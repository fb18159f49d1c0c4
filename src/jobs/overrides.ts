import { ConfigError, type JobOverride } from '../config/index.js';
import { parseBoolean } from '../config/env-reader.js';
import { parseDuration } from '../duration.js';
import { defaultLateAfter } from './lateness.js';
import { DST_POLICIES, isValidTimezone, parseSchedule, ScheduleError, type DstPolicy } from './schedule.js';
import type { CatchUpPolicy, JobDefinition } from './types.js';

/** The environment variable for one override field, e.g. JOB_LOGOUT_ALL_USERS_SCHEDULE. */
export function envName(job: string, field: string): string {
  return `JOB_${job.toUpperCase().replace(/-/g, '_')}_${field}`;
}

function duration(job: string, field: string, value: string, min: number): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) {
    throw new ConfigError(envName(job, field), `expected a duration of at least ${min} ms such as 30s, 10m or 500ms, got "${value}"`);
  }
  return ms;
}

function catchUp(job: string, value: string): CatchUpPolicy {
  const lower = value.toLowerCase();
  if (lower === 'latest' || lower === 'none') return { kind: lower };
  const all = /^all(?::(.+))?$/.exec(lower);
  if (all !== null) {
    const windowMs = all[1] === undefined ? 86_400_000 : parseDuration(all[1]);
    if (windowMs !== undefined && windowMs > 0) return { kind: 'all', windowMs };
  }
  throw new ConfigError(envName(job, 'CATCH_UP'), `expected latest, none, all or all:<window> (e.g. all:6h), got "${value}"`);
}

function dstPolicy(job: string, value: string): DstPolicy {
  const match = DST_POLICIES.find((policy) => policy === value.toLowerCase());
  if (match === undefined) throw new ConfigError(envName(job, 'DST'), `expected skip, run-once or run-each, got "${value}"`);
  return match;
}

function boolean(job: string, value: string): boolean {
  const parsed = parseBoolean(value);
  if (parsed === undefined) throw new ConfigError(envName(job, 'ENABLED'), `expected true or false, got "${value}"`);
  return parsed;
}

/**
 * Applies `JOB_<NAME>_<FIELD>` overrides to a definition and validates the
 * result (schedule and zone through croner). Throws ConfigError naming the
 * variable at fault.
 */
export function applyOverride(definition: JobDefinition, override: JobOverride | undefined): JobDefinition {
  const job = definition.name;
  const o = override ?? {};
  let retries = definition.retries;
  if (o.RETRIES !== undefined) {
    if (!/^\d+$/.test(o.RETRIES) || Number(o.RETRIES) > 20) {
      throw new ConfigError(envName(job, 'RETRIES'), `expected a whole number of extra attempts from 0 to 20, got "${o.RETRIES}"`);
    }
    retries = { ...retries, max: Number(o.RETRIES) };
  }
  let overlap = definition.overlap;
  if (o.OVERLAP !== undefined) {
    const lower = o.OVERLAP.toLowerCase();
    if (lower !== 'skip' && lower !== 'queue-one') throw new ConfigError(envName(job, 'OVERLAP'), `expected skip or queue-one, got "${o.OVERLAP}"`);
    overlap = lower;
  }
  const result: JobDefinition = {
    ...definition,
    run: definition.run,
    schedule: o.SCHEDULE ?? definition.schedule,
    timezone: o.TZ ?? definition.timezone,
    enabled: o.ENABLED === undefined ? definition.enabled : boolean(job, o.ENABLED),
    overlap,
    catchUp: o.CATCH_UP === undefined ? definition.catchUp : catchUp(job, o.CATCH_UP),
    timeoutMs: o.TIMEOUT === undefined ? definition.timeoutMs : duration(job, 'TIMEOUT', o.TIMEOUT, 1),
    retries,
    ...(o.LEASE_TTL === undefined ? {} : { leaseTtlMs: duration(job, 'LEASE_TTL', o.LEASE_TTL, 300) }),
    ...(o.DST === undefined ? {} : { dst: dstPolicy(job, o.DST) }),
    ...(o.LATE_AFTER === undefined ? {} : { lateAfterMs: duration(job, 'LATE_AFTER', o.LATE_AFTER, 1000) }),
  };
  if (!isValidTimezone(result.timezone)) {
    throw new ConfigError(envName(job, 'TZ'), `unknown time zone "${result.timezone}"; use an IANA name such as Europe/Berlin or UTC`);
  }
  let periodMs: number;
  try {
    periodMs = parseSchedule(result.schedule, result.timezone, result.dst).periodMs;
  } catch (error) {
    if (error instanceof ScheduleError) throw new ConfigError(envName(job, o.SCHEDULE === undefined ? 'TZ' : 'SCHEDULE'), error.message);
    throw error;
  }
  if (o.LATE_AFTER !== undefined && result.lateAfterMs !== undefined && result.lateAfterMs <= periodMs) {
    throw new ConfigError(
      envName(job, 'LATE_AFTER'),
      `must be longer than the job's period (${formatMs(periodMs)} for "${result.schedule}"), or the job is late between two runs; e.g. ${formatMs(defaultLateAfter({ periodMs }))}, or unset it for the default`,
    );
  }
  return result;
}

/** 90000 → "1m30s", 86400000 → "1d": a duration as JOB_* variables take it. */
function formatMs(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  let rest = ms;
  let text = '';
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest > 0 || text === '' ? `${text}${rest}ms` : text;
}
