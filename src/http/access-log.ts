import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino } from 'pino';
import type { Logger } from '../logger.js';
import { errorCodeOf } from './error-answer.js';

/** Route parameters whose value is a credential (an activation token in the path): logged as [REDACTED]. */
const SECRET_PARAM = /token|secret|password|signature|key|code/i;
const REDACTED = '[REDACTED]';
/** A user agent longer than this is cut: a log line is not a place to store what a client sends. */
const MAX_USER_AGENT = 256;

/** What one access-log line says about one request. */
export interface AccessEntry {
  readonly reqId: string;
  readonly method: string | undefined;
  /** The raw request target; `accessPath` redacts it. */
  readonly url: string | undefined;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
  readonly status: number;
  /** Milliseconds from the request's arrival to its answer. */
  readonly responseTime: number;
  /** The error envelope's code, when the answer was an error. */
  readonly code?: string | undefined;
  /** The route's parameters (Fastify answers only): credential-looking ones are blanked in the path. */
  readonly params?: unknown;
  /** True for the early answers (early-answers.ts): the line then says `"early":true`. */
  readonly early?: boolean;
}

/** The level of an access line: a 5xx is the server's problem (warn), anything else is information. */
export function accessLevel(status: number): 'info' | 'warn' {
  return status >= 500 ? 'warn' : 'info';
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? (pair === '' ? pair : REDACTED) : `${pair.slice(0, eq + 1)}${REDACTED}`;
    })
    .join('&');
}

function sameSegment(segment: string, value: string): boolean {
  if (segment === value) return true;
  try {
    return decodeURIComponent(segment) === value;
  } catch {
    return false;
  }
}

/**
 * The path as access lines show it: every query value blanked
 * (`/cron/run?token=[REDACTED]`, `?limit=[REDACTED]`), and the path segment
 * of any route parameter named like a credential (`token`, `secret`, `key`,
 * `code`, `password`, `signature`) blanked too (`/api/v1/activate/[REDACTED]`).
 */
export function accessPath(url: string, params?: unknown): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (params !== null && typeof params === 'object') {
    for (const [name, value] of Object.entries(params)) {
      if (!SECRET_PARAM.test(name) || typeof value !== 'string' || value === '') continue;
      path = path
        .split('/')
        .map((segment) => (sameSegment(segment, value) ? REDACTED : segment))
        .join('/');
    }
  }
  return q === -1 ? path : `${path}?${redactQuery(url.slice(q + 1))}`;
}

/** What the access log needs of the pino logger it writes beside (pino's documented `pino.symbols`). */
interface PinoInternals {
  /** The destination every line of this logger goes to. */
  readonly stream: { write(line: string): unknown };
  /** The bindings as pino serialised them once: `,"service":"curfew"`. */
  readonly chindings: string;
  /** The configured time function: `,"time":"2026-..."`. */
  readonly time: () => string;
  readonly messageKey: string;
}

function internalsOf(logger: Logger): PinoInternals {
  const { streamSym, chindingsSym, timeSym, messageKeySym } = pino.symbols;
  const fields = logger as unknown as Record<symbol, unknown>;
  return {
    stream: fields[streamSym] as PinoInternals['stream'],
    chindings: fields[chindingsSym] as string,
    time: fields[timeSym] as () => string,
    messageKey: fields[messageKeySym] as string,
  };
}

/** Characters JSON.stringify would escape (quote, backslash, controls) or check (surrogates, paired or not). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal; the common case (nothing to escape) skips JSON.stringify's set-up. */
export function json(value: string | undefined): string {
  if (value === undefined) return 'null';
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * A duration in ms as a JSON number with microsecond resolution (`7.92`,
 * `0.25`, `12`), built from integers: printing the raw double (`7.919724000000315`)
 * took V8's shortest-representation search on every line.
 */
export function milliseconds(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'null';
  const micros = Math.round(ms * 1000);
  const whole = Math.floor(micros / 1000);
  const fraction = micros - whole * 1000;
  if (fraction === 0) return `${whole}`;
  const digits = fraction < 10 ? `00${fraction}` : fraction < 100 ? `0${fraction}` : `${fraction}`;
  return `${whole}.${digits.replace(/0+$/, '')}`;
}

/**
 * The one access-log policy: one `request completed` line per request, for
 * early answers and Fastify's alike, at info (warn for a 5xx), carrying the
 * request id, method, path (redacted by `accessPath`), client IP, user agent,
 * status, duration and, for error answers, the error code (and
 * `"early":true` when the early answers answered).
 *
 * Cheap by construction (bench/RESULTS.md, issue 15 §2). The line has one
 * fixed shape that holds no header, cookie or body, so it is built here as a
 * string, in pino's own format (its level number, time function, bindings
 * and message key) and written to the logger's own destination: no pino
 * redaction pass (with curfew's redact paths it cost more than the request
 * itself), no serializers, no child logger. The only secrets that could
 * reach it (a token in the query or the path) are blanked by `accessPath`;
 * every string is JSON-escaped. Fastify's own two lines per request are
 * replaced by this one (`AccessLogController`).
 */
export class AccessLog {
  private readonly pino: PinoInternals;
  private lastMs = -1;
  private lastTime = '';

  constructor(private readonly logger: Logger) {
    this.pino = internalsOf(logger);
  }

  /** Whether a line for `status` would be written (callers skip the clock and the line otherwise). */
  enabled(status: number): boolean {
    return this.logger.isLevelEnabled(accessLevel(status));
  }

  write(entry: AccessEntry): void {
    const level = accessLevel(entry.status);
    if (!this.logger.isLevelEnabled(level)) return;
    const userAgent = entry.userAgent !== undefined && entry.userAgent.length > MAX_USER_AGENT ? entry.userAgent.slice(0, MAX_USER_AGENT) : entry.userAgent;
    const url = entry.url === undefined ? undefined : accessPath(entry.url, entry.params);
    this.pino.stream.write(
      `{"level":${this.logger.levels.values[level] ?? 30}${this.time()}${this.pino.chindings},"reqId":${json(entry.reqId)}` +
        `,"req":{"method":${json(entry.method)},"url":${json(url)},"ip":${json(entry.ip)},"userAgent":${json(userAgent)}}` +
        `,"res":{"statusCode":${entry.status}},"responseTime":${milliseconds(entry.responseTime)}` +
        `${entry.code === undefined ? '' : `,"code":${json(entry.code)}`}${entry.early === true ? ',"early":true' : ''}` +
        `,${json(this.pino.messageKey)}:"request completed"}\n`,
    );
  }

  /** pino's time field, formatted once per millisecond: under load many lines share one. */
  private time(): string {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastTime = this.pino.time();
    }
    return this.lastTime;
  }

  /** The entry for an early answer, with its client IP resolved by the caller. */
  static entryOf(req: IncomingMessage, reqId: string, ip: string | undefined, status: number, responseTime: number, code?: string): AccessEntry {
    return { reqId, method: req.method, url: req.url, ip, userAgent: req.headers['user-agent'], status, responseTime, code, early: true };
  }
}

/**
 * The Fastify side of the policy: Fastify's log controller with its two
 * per-request lines (`incoming request`, `request completed`) replaced by
 * the AccessLog's one, written when Fastify finished any answer (404s and
 * errors included). No hook: nothing runs per request at warn but a level
 * check. Fastify's other lines (stream errors and such) are as before.
 */
export class AccessLogController extends LogController {
  constructor(private readonly log: AccessLog) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.warn({ err: error }, 'response failed');
    const status = reply.statusCode;
    if (!this.log.enabled(status)) return;
    this.log.write({
      reqId: request.id,
      method: request.method,
      url: request.url,
      ip: request.ip,
      userAgent: request.headers['user-agent'],
      status,
      responseTime: reply.elapsedTime,
      code: errorCodeOf(reply.raw),
      params: request.params,
    });
  }
}
