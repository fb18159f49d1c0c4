import { EXIT, type ExitCode } from './exit-codes.js';

/** The classified result of one HTTP answer (or of no answer). */
export interface Outcome {
  /** Short word for the log line: ok, failed, busy, disabled, throttled, refused, unreachable, error, usage. */
  readonly outcome: string;
  readonly exitCode: ExitCode;
  /** Worth another attempt (network errors and 5xx only). */
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly runId: number | undefined;
  /** The server's message or error code, or the network error, for the log line. */
  readonly message: string | undefined;
  /** Retry-After as the server sent it (429, 503). */
  readonly retryAfter: string | undefined;
}

// `missed` slots in a /cron/run answer are history the catch-up policy recorded, not this call's failure.
const FAILED_STATUSES = new Set(['failed', 'timed_out', 'error']);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberField(source: Json | undefined, ...keys: string[]): number | undefined {
  if (!source) return undefined;
  for (const key of keys) {
    const value = source[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

function stringField(source: Json | undefined, ...keys: string[]): string | undefined {
  if (!source) return undefined;
  for (const key of keys) {
    const value = source[key];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** Every run-looking object in a body: the body itself, `data`, `run`, `data.runs[]`, `runs[]`. */
function runsIn(body: Json): Json[] {
  const data = isObject(body.data) ? body.data : undefined;
  const candidates: unknown[] = [body, data, body.run, data?.run];
  for (const list of [body.runs, data?.runs]) if (Array.isArray(list)) candidates.push(...list);
  return candidates.filter(isObject);
}

/**
 * Reads a 2xx body: curfew's `{ok, message, data: {cron_run_id, runs}}`, a run
 * summary `{id, status}` (bare or under `data`/`run`), or a seed route's
 * `{status: "success"}`. A non-JSON 2xx body counts as success (seed 000's
 * route answered plain 200).
 */
function classifySuccess(status: number, body: unknown): Outcome {
  const base = { status, retryable: false, retryAfter: undefined };
  if (!isObject(body)) return { ...base, outcome: 'ok', exitCode: EXIT.OK, runId: undefined, message: undefined };
  const data = isObject(body.data) ? body.data : undefined;
  const runId = numberField(data, 'cron_run_id', 'run_id', 'id') ?? numberField(body, 'cron_run_id', 'run_id', 'id');
  const message = stringField(body, 'message');
  const failedRun = runsIn(body).find((run) => {
    const runStatus = stringField(run, 'status');
    return runStatus !== undefined && FAILED_STATUSES.has(runStatus);
  });
  if (body.ok === false || failedRun) {
    const detail = failedRun ? `${stringField(failedRun, 'job') ?? 'run'} ${stringField(failedRun, 'status') ?? 'failed'}${stringField(failedRun, 'error') ? `: ${stringField(failedRun, 'error')}` : ''}` : undefined;
    return { ...base, outcome: 'failed', exitCode: EXIT.JOB_FAILED, runId, message: detail ?? message };
  }
  return { ...base, outcome: 'ok', exitCode: EXIT.OK, runId, message };
}

function errorText(body: unknown): string | undefined {
  if (!isObject(body)) return typeof body === 'string' && body !== '' ? body.slice(0, 200) : undefined;
  const error = isObject(body.error) ? body.error : undefined;
  const code = stringField(error, 'code');
  const message = stringField(error, 'message') ?? stringField(body, 'message');
  return code && message ? `${code}: ${message}` : (code ?? message);
}

function errorCode(body: unknown): string | undefined {
  return isObject(body) && isObject(body.error) ? stringField(body.error, 'code') : undefined;
}

/**
 * Maps an HTTP answer to an exit code. Only 5xx without a job result are retryable; 401/403/409/429
 * are final and reported. 503 CRON_NOT_CONFIGURED is "auth refused" (the
 * server has no secret at all, retrying cannot help).
 */
export function classifyResponse(status: number, body: unknown, retryAfter?: string | null): Outcome {
  if (status >= 200 && status < 300) return classifySuccess(status, body);
  const common = { status, runId: undefined, message: errorText(body), retryAfter: retryAfter ?? undefined };
  const code = errorCode(body);
  // Paused by an operator is "switched off" too: retrying will not help until someone resumes it.
  if (status === 409 && (code === 'JOB_DISABLED' || code === 'JOB_PAUSED')) return { ...common, outcome: 'disabled', exitCode: EXIT.DISABLED, retryable: false };
  if (status === 409) return { ...common, outcome: 'busy', exitCode: EXIT.BUSY, retryable: false };
  if (status === 429) return { ...common, outcome: 'throttled', exitCode: EXIT.THROTTLED, retryable: false };
  if (status === 401 || status === 403) return { ...common, outcome: 'refused', exitCode: EXIT.AUTH_REFUSED, retryable: false };
  if (status === 503 && errorCode(body) === 'CRON_NOT_CONFIGURED') {
    return { ...common, outcome: 'refused', exitCode: EXIT.AUTH_REFUSED, retryable: false };
  }
  if (status === 502 || status === 503 || status === 504) return { ...common, outcome: 'unreachable', exitCode: EXIT.UNREACHABLE, retryable: true };
  // A 5xx that reports a job result (curfew's `{ok:false, data: run}`, the seed
  // aliases' `{status:"error"}`) means the job ran and failed: running it again
  // is the scheduler's retry policy's call, not the caller's.
  if (status >= 500 && isObject(body) && (body.ok === false || body.status === 'error')) {
    const failed = classifySuccess(200, { ...body, ok: false });
    return { ...failed, status, retryAfter: common.retryAfter };
  }
  if (status >= 500) return { ...common, outcome: 'error', exitCode: EXIT.JOB_FAILED, retryable: true };
  if (status === 400 || status === 404 || status === 405) return { ...common, outcome: 'usage', exitCode: EXIT.USAGE, retryable: false };
  return { ...common, outcome: 'failed', exitCode: EXIT.JOB_FAILED, retryable: false };
}

/** A call that got no HTTP answer (refused, DNS, TLS, timeout): exit 5, retryable. */
export function classifyNetworkError(error: unknown, timedOut: boolean): Outcome {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = isObject(cause) ? stringField(cause, 'code') : undefined;
  const message = timedOut ? 'timed out' : code ?? (cause instanceof Error ? cause.message : String(cause));
  return { outcome: timedOut ? 'timeout' : 'unreachable', exitCode: EXIT.UNREACHABLE, retryable: true, status: undefined, runId: undefined, message, retryAfter: undefined };
}
