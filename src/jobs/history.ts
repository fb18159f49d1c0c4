import type { CronRunDetailRow, CronRunListRow, CronRunsRepository } from '../db/repositories/cron-runs.js';
import { AppError } from '../errors.js';
import { SCHEDULE_RUN_JOB, type JobRegistry } from './registry.js';
import type { RunStatus, Trigger } from './types.js';

export const RUN_STATUSES: readonly RunStatus[] = ['running', 'ok', 'failed', 'skipped', 'timed_out', 'missed'];
export const TRIGGERS: readonly Trigger[] = ['schedule', 'http', 'cli', 'catch-up', 'console'];
export const MAX_RUNS_PAGE = 200;
export const DEFAULT_RUNS_PAGE = 50;
export const OUTPUT_PREVIEW_CHARS = 200;
export const ERROR_PREVIEW_CHARS = 300;
export const MAX_OUTPUT_SLICE = 65_536;
export const DEFAULT_OUTPUT_SLICE = 16_384;

/** What the console asks of the history; every field is checked here (AppError VALIDATION_FAILED). */
export interface RunQuery {
  readonly job?: string;
  readonly status?: string;
  readonly trigger?: string;
  /** Epoch ms (the route parses ISO date-times). */
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
  /** Opaque, from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** One run as the history lists it. */
export interface RunListItem {
  readonly id: number;
  readonly job: string;
  readonly scheduledFor: number | null;
  readonly trigger: Trigger;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly durationMs: number | null;
  readonly counts: Record<string, number>;
  readonly dryRun: boolean;
  readonly instanceId: string;
  /** started_at - scheduled_for; null for ad-hoc runs. */
  readonly latenessMs: number | null;
  /** The error's first line, at most 300 characters; null when none. */
  readonly error: string | null;
  /** The output's first 200 characters; null when none. */
  readonly outputPreview: string | null;
  /** True when the output is longer than the preview. */
  readonly outputTruncated: boolean;
}

/** One run in full, with a slice of its output. */
export interface RunDetail extends Omit<RunListItem, 'error'> {
  /** The requested slice of the output ('' past its end); null when the run has none. */
  readonly output: string | null;
  readonly outputOffset: number;
  readonly outputLength: number;
  /** The whole (short, redacted) error message. */
  readonly error: string | null;
  /** Stack and `cause` chain of a failure, redacted. */
  readonly errorDetail: string | null;
  readonly callerIp: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly params: Record<string, unknown> | null;
}

/** Who fired a run, in words. */
export type FiredBy = 'scheduler' | 'outside caller' | 'CLI' | 'console';

/**
 * schedule → scheduler, http → outside caller, cli → CLI, console → console
 * (an admin's "Run now" or "Dry run"); catch-up →
 * scheduler, unless the row carries a request id: then an outside caller's
 * `/cron/run` caught the slot up (the in-process scheduler has no request).
 */
export function firedBy(trigger: Trigger, requestId: string | null = null): FiredBy {
  if (trigger === 'catch-up') return requestId === null ? 'scheduler' : 'outside caller';
  return trigger === 'http' ? 'outside caller' : trigger === 'cli' ? 'CLI' : trigger === 'console' ? 'console' : 'scheduler';
}

/** The overview's "Last cron run at": the newest real (not dry, not missed) ledger row of any job. */
export interface LastFired {
  readonly at: number;
  readonly job: string;
  readonly runId: number;
  readonly trigger: Trigger;
  readonly firedBy: FiredBy;
  readonly callerIp: string | null;
}

export interface RunPage {
  readonly runs: readonly RunListItem[];
  readonly nextCursor: string | null;
}

function invalid(message: string): AppError {
  return new AppError('VALIDATION_FAILED', message);
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    // A row written by an older version with bad JSON: show the fallback rather than fail the page.
    return fallback;
  }
}

function encodeCursor(row: { started_at: number; id: number }): string {
  return Buffer.from(`${row.started_at}:${row.id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: number; id: number } {
  const match = /^(\d{1,16}):(\d{1,16})$/.exec(/^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '');
  if (match === null) throw invalid('cursor is not one this server handed out; start again without it.');
  return { startedAt: Number(match[1]), id: Number(match[2]) };
}

function item(row: CronRunListRow | CronRunDetailRow, preview: string | null, length: number | null): RunListItem {
  const firstLine = row.error === null ? null : (row.error.split('\n')[0] ?? '').slice(0, ERROR_PREVIEW_CHARS);
  return {
    id: Number(row.id),
    job: row.job,
    scheduledFor: row.scheduled_for,
    trigger: row.trigger,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    counts: parseJson<Record<string, number>>(row.counts, {}),
    dryRun: row.dry_run === 1,
    instanceId: row.instance_id,
    latenessMs: row.scheduled_for === null ? null : row.started_at - row.scheduled_for,
    error: firstLine,
    outputPreview: preview === null ? null : preview.slice(0, OUTPUT_PREVIEW_CHARS),
    outputTruncated: (length ?? 0) > OUTPUT_PREVIEW_CHARS,
  };
}

/**
 * The run ledger as the console reads it: filtered, keyset-paged history
 * and one run in full. Reads only (the runner is the ledger's one writer).
 */
export class RunHistory {
  constructor(
    private readonly ledger: CronRunsRepository,
    private readonly registry: JobRegistry,
  ) {}

  /** A page of runs, newest first. AppError VALIDATION_FAILED for any filter it cannot use. */
  async list(query: RunQuery): Promise<RunPage> {
    const { job, status, trigger, from, to, cursor } = query;
    if (job !== undefined && job !== SCHEDULE_RUN_JOB && this.registry.find(job) === undefined) {
      throw invalid(`job must be a registered job (${this.registry.all().map((j) => j.definition.name).join(', ')}) or ${SCHEDULE_RUN_JOB}.`);
    }
    const knownStatus = RUN_STATUSES.find((s) => s === status);
    if (status !== undefined && knownStatus === undefined) throw invalid(`status must be one of ${RUN_STATUSES.join(', ')}.`);
    const knownTrigger = TRIGGERS.find((t) => t === trigger);
    if (trigger !== undefined && knownTrigger === undefined) throw invalid(`trigger must be one of ${TRIGGERS.join(', ')}.`);
    for (const [name, value] of [['from', from], ['to', to]] as const) {
      if (value !== undefined && !Number.isFinite(value)) throw invalid(`${name} must be an ISO 8601 date-time.`);
    }
    if (from !== undefined && to !== undefined && from > to) throw invalid('from must not be after to.');
    const limit = query.limit ?? DEFAULT_RUNS_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RUNS_PAGE) throw invalid(`limit must be a whole number from 1 to ${MAX_RUNS_PAGE}.`);
    const rows = await this.ledger.list(
      {
        ...(job === undefined ? {} : { job }),
        ...(knownStatus === undefined ? {} : { status: knownStatus }),
        ...(knownTrigger === undefined ? {} : { trigger: knownTrigger }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(cursor === undefined ? {} : { before: decodeCursor(cursor) }),
        limit: limit + 1,
      },
      OUTPUT_PREVIEW_CHARS + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      runs: page.map((row) => item(row, row.output_head, row.output_length === null ? null : Number(row.output_length))),
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ started_at: last.started_at, id: Number(last.id) }) : null,
    };
  }

  /** The newest row a trigger fired for real, of any job (`schedule-run` included); null on an empty ledger. */
  async lastFired(): Promise<LastFired | null> {
    const row = await this.ledger.lastFired();
    if (row === undefined) return null;
    return { at: row.started_at, job: row.job, runId: Number(row.id), trigger: row.trigger, firedBy: firedBy(row.trigger, row.request_id), callerIp: row.caller_ip };
  }

  /** Slots recorded `missed` at or after `since` (the overview's backlog of jobs' missed slots). */
  missedSince(since: number): Promise<number> {
    return this.ledger.countMissedSince(since);
  }

  /**
   * One run with `limit` characters of its output from `offset`. AppError
   * RUN_NOT_FOUND for an unknown id, VALIDATION_FAILED for a bad slice.
   */
  async get(id: number, offset = 0, limit = DEFAULT_OUTPUT_SLICE): Promise<RunDetail> {
    if (!Number.isInteger(offset) || offset < 0) throw invalid('output_offset must be a whole number, 0 or more.');
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OUTPUT_SLICE) throw invalid(`output_limit must be a whole number from 1 to ${MAX_OUTPUT_SLICE}.`);
    const row = await this.ledger.findDetail(id, offset, limit, OUTPUT_PREVIEW_CHARS + 1);
    if (row === undefined) throw new AppError('RUN_NOT_FOUND', `There is no run with id ${id}.`);
    const length = row.output_length === null ? null : Number(row.output_length);
    return {
      ...item(row, row.output_head, length),
      output: row.output_slice,
      outputOffset: offset,
      outputLength: length ?? 0,
      error: row.error,
      errorDetail: row.error_detail,
      callerIp: row.caller_ip,
      userAgent: row.user_agent,
      requestId: row.request_id,
      params: parseJson<Record<string, unknown> | null>(row.params, null),
    };
  }
}
