import { claimLaunch } from './lock.js';
import { formatLogLine } from './log-line.js';
import { classifyNetworkError, classifyResponse, type Outcome } from './outcome.js';
import { buildRequest, defaultPath, resolveUrl, type TriggerTarget } from './request.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** Everything one `curfew trigger` launch needs, already validated. */
export interface TriggerOptions {
  readonly target: TriggerTarget;
  readonly secret: string;
  /** GET `/api/cronjob/csrf-token` first and send its cookie + X-CSRFToken (default false). */
  readonly csrf: boolean;
  /** Per-attempt timeout in ms (default 10 000). */
  readonly timeoutMs: number;
  /** Extra attempts after a network error or 5xx (default 3). */
  readonly retries: number;
  /** First back-off delay in ms, doubled per attempt, ±50 % jitter (default 1 000). */
  readonly retryDelayMs: number;
  /** The min-interval guard, when `--min-interval` is given. */
  readonly guard?: { readonly lockFile: string; readonly minIntervalMs: number } | undefined;
}

/** The outside world, injectable for tests. */
export interface TriggerDeps {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** In [0, 1), for jitter. */
  readonly random: () => number;
}

export interface TriggerResult {
  readonly exitCode: ExitCode;
  readonly outcome: string;
  readonly attempts: number;
  /** The log line (no trailing newline), secret-free. */
  readonly line: string;
}

export const CSRF_PATH = '/api/cronjob/csrf-token';

/** Delay before attempt `attempt + 1` (attempt counts from 1): base·2^(attempt-1), jittered to 50–150 %, capped at 30 s. */
export function backoffDelay(baseMs: number, attempt: number, random: () => number): number {
  const exponential = Math.min(baseMs * 2 ** (attempt - 1), 30_000);
  return Math.round(exponential * (0.5 + random()));
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Seed routes may answer plain text; the text itself is the message.
    return text;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

type Step = { readonly response: Outcome } | { readonly csrfToken: string };

async function fetchCsrfToken(target: TriggerTarget, timeoutMs: number): Promise<Step> {
  const url = resolveUrl(target.baseUrl, CSRF_PATH);
  try {
    const response = await fetch(url, { headers: { accept: 'application/json', 'user-agent': 'curfew-trigger' }, signal: AbortSignal.timeout(timeoutMs) });
    const body = await readBody(response);
    if (!response.ok) return { response: classifyResponse(response.status, body, response.headers.get('retry-after')) };
    for (const line of response.headers.getSetCookie()) {
      const match = /^\s*csrftoken=([^;]*)/.exec(line);
      if (match?.[1]) return { csrfToken: match[1] };
    }
    return {
      response: { outcome: 'failed', exitCode: EXIT.JOB_FAILED, retryable: false, status: response.status, runId: undefined, message: `no csrftoken cookie from ${CSRF_PATH}`, retryAfter: undefined },
    };
  } catch (error) {
    return { response: classifyNetworkError(error, isTimeout(error)) };
  }
}

/** The route that tells a signer which slot a job would run now (X-Curfew-Slot). */
export function slotPath(job: string): string {
  return `/cron/jobs/${encodeURIComponent(job)}/slot`;
}

/**
 * The slot to bind a signed per-job call to: asks the server (a signed GET
 * of `/cron/jobs/<job>/slot`, its own nonce). Undefined when there is none to
 * bind: not signed mode, not the job's own route, or a server without the
 * route (404 ROUTE_NOT_FOUND, e.g. an older curfew), which then judges the call
 * by nonce and timestamp alone. Any other refusal is the launch's outcome.
 */
async function fetchSlot(options: TriggerOptions, nowMs: number): Promise<{ readonly slot: string | undefined } | { readonly response: Outcome }> {
  const { target } = options;
  if (target.mode !== 'signed' || target.job === undefined || target.path !== defaultPath(target.job)) return { slot: undefined };
  const request = buildRequest({ ...target, method: 'GET', path: slotPath(target.job) }, options.secret, nowMs);
  try {
    const response = await fetch(request.url, { headers: request.headers, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) });
    const body = await readBody(response);
    if (response.ok && typeof body === 'object' && body !== null && 'slot' in body) {
      const slot = (body as { slot: unknown }).slot;
      return { slot: typeof slot === 'string' ? slot : undefined };
    }
    const code = typeof body === 'object' && body !== null ? (body as { error?: { code?: unknown } }).error?.code : undefined;
    if (response.status === 404 && code !== 'JOB_NOT_FOUND') return { slot: undefined };
    return { response: classifyResponse(response.status, body, response.headers.get('retry-after')) };
  } catch (error) {
    return { response: classifyNetworkError(error, isTimeout(error)) };
  }
}

async function attempt(options: TriggerOptions, deps: TriggerDeps): Promise<Outcome> {
  let csrfToken: string | undefined;
  if (options.csrf) {
    const step = await fetchCsrfToken(options.target, options.timeoutMs);
    if ('response' in step) return step.response;
    csrfToken = step.csrfToken;
  }
  // A slot that turns over between asking and firing: ask again once.
  for (let round = 0; ; round += 1) {
    const outcome = await fire(options, deps, csrfToken);
    if (!outcome.slotMismatch || round >= 1) return outcome;
  }
}

async function fire(options: TriggerOptions, deps: TriggerDeps, csrfToken: string | undefined): Promise<Outcome & { readonly slotMismatch?: boolean }> {
  const slot = await fetchSlot(options, deps.now());
  if ('response' in slot) return slot.response;
  // Every request carries a fresh nonce, so retries need no new timestamp.
  const request = buildRequest(options.target, options.secret, deps.now(), csrfToken, slot.slot);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const body = await readBody(response);
    const outcome = classifyResponse(response.status, body, response.headers.get('retry-after'));
    return response.status === 401 && outcome.message?.startsWith('SLOT_MISMATCH') === true ? { ...outcome, slotMismatch: true } : outcome;
  } catch (error) {
    return classifyNetworkError(error, isTimeout(error));
  }
}

/** A human label for the log: the job, `due` for /cron/run, or the custom path. */
export function jobLabel(target: TriggerTarget): string {
  if (target.job !== undefined) return target.job;
  return target.path === '/cron/run' ? 'due' : target.path;
}

/**
 * One launch: the min-interval guard, then up to 1 + retries attempts
 * (retrying network errors and 5xx only), then one log line.
 */
export async function runTrigger(options: TriggerOptions, deps: TriggerDeps): Promise<TriggerResult> {
  const started = deps.now();
  const logBase = { at: new Date(started), job: jobLabel(options.target), method: options.target.method.toUpperCase(), path: options.target.path };
  if (options.guard) {
    const decision = await claimLaunch({ ...options.guard, now: deps.now });
    if (!decision.launch) {
      const line = formatLogLine(
        { ...logBase, status: undefined, runId: undefined, durationMs: deps.now() - started, attempts: 0, outcome: 'skipped', exitCode: EXIT.OK, message: decision.reason },
        options.secret,
      );
      return { exitCode: EXIT.OK, outcome: 'skipped', attempts: 0, line };
    }
  }
  let attempts = 0;
  let result: Outcome;
  for (;;) {
    attempts += 1;
    result = await attempt(options, deps);
    if (!result.retryable || attempts > options.retries) break;
    await deps.sleep(backoffDelay(options.retryDelayMs, attempts, deps.random));
  }
  const line = formatLogLine(
    {
      ...logBase,
      status: result.status,
      runId: result.runId,
      durationMs: deps.now() - started,
      attempts,
      outcome: result.outcome,
      exitCode: result.exitCode,
      message: result.message,
      retryAfter: result.retryAfter,
    },
    options.secret,
  );
  return { exitCode: result.exitCode, outcome: result.outcome, attempts, line };
}
