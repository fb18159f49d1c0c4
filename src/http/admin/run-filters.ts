import type { RunStatus, Trigger } from '../../jobs/types.js';

/** The run statuses and triggers the history can filter by. */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'ok', 'failed', 'skipped', 'timed_out', 'missed'];
export const RUN_TRIGGERS: readonly Trigger[] = ['schedule', 'http', 'cli', 'catch-up', 'console'];

/** Run-history filters, checked: each is a known value or absent. */
export interface RunFilters {
  readonly job?: string;
  readonly status?: string;
  readonly trigger?: string;
  /** ISO 8601 (UTC) bounds on the start time. */
  readonly from?: string;
  readonly to?: string;
  /** The API's paging cursor, passed through as it came. */
  readonly cursor?: string;
}

/** The checked filters, and a message for each value that was refused (and dropped). */
export interface ParsedRunFilters {
  readonly filters: RunFilters;
  readonly refused: readonly string[];
}

const CURSOR = /^[A-Za-z0-9_=.:-]{1,200}$/;
/** `2026-11-30T17:05`, what a datetime-local field sends (read as UTC), or a full ISO time. */
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

function one(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  // `?job=a&job=b`: the first one, the form never sends two.
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0] === '' ? undefined : value[0];
  return undefined;
}

function shown(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

function time(value: string): string | undefined {
  if (!TIME.test(value)) return undefined;
  const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Reads the run-history page's query. A value outside its set (an unknown
 * job, status or trigger, a time that is not one, a cursor of odd
 * characters) is dropped with a message, so the page answers 400 with a
 * notice instead of failing.
 */
export function parseRunFilters(query: unknown, jobs: readonly string[]): ParsedRunFilters {
  const source = (query !== null && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  const refused: string[] = [];
  const filters: { -readonly [K in keyof RunFilters]: RunFilters[K] } = {};
  const pick = (name: 'job' | 'status' | 'trigger', allowed: readonly string[], what: string) => {
    const value = one(source[name]);
    if (value === undefined) return;
    if (allowed.includes(value)) filters[name] = value;
    else refused.push(`${name}: "${shown(value)}" is not ${what}.`);
  };
  pick('job', jobs, 'a job');
  pick('status', RUN_STATUSES, `a run status (${RUN_STATUSES.join(', ')})`);
  pick('trigger', RUN_TRIGGERS, `a trigger (${RUN_TRIGGERS.join(', ')})`);
  for (const name of ['from', 'to'] as const) {
    const value = one(source[name]);
    if (value === undefined) continue;
    const parsed = time(value);
    if (parsed === undefined) refused.push(`${name}: "${shown(value)}" is not a date and time (YYYY-MM-DDTHH:MM, UTC).`);
    else filters[name] = parsed;
  }
  if (filters.from !== undefined && filters.to !== undefined && filters.from > filters.to) {
    refused.push('from: the start of the range is after its end.');
    delete filters.from;
    delete filters.to;
  }
  const cursor = one(source.cursor);
  if (cursor !== undefined) {
    if (CURSOR.test(cursor)) filters.cursor = cursor;
    else refused.push('cursor: not a page of this list.');
  }
  return { filters, refused };
}

/** A datetime-local field's value (`YYYY-MM-DDTHH:MM`, UTC) for an ISO time. */
export function localInput(iso: string | undefined): string {
  return iso === undefined ? '' : iso.slice(0, 16);
}
