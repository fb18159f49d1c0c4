import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
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

const passThrough = <T>(value: T): T => value;

/**
 * The one access-log policy: one `request completed` line per request, for
 * early answers and Fastify's alike, at info (warn for a 5xx), carrying the
 * request id, method, path (redacted by `accessPath`), client IP, user agent,
 * status, duration and, for error answers, the error code (and
 * `"early":true` when the early answers answered).
 *
 * Cheap by construction (bench/RESULTS.md, issue 15 §2): the line's shape is
 * fixed and holds no header, cookie or body, so it is written through a
 * child logger without pino's per-line redaction pass (which cost more than
 * the request itself) and without the request serializer; the secrets that
 * can reach it (a token in the query or the path) are blanked by
 * `accessPath` before the line is built. Fastify's own two lines per request
 * are replaced by this one (`AccessLogController`).
 */
export class AccessLog {
  private readonly lines: Logger;

  constructor(private readonly logger: Logger) {
    this.lines = logger.child({}, { redact: { paths: [] }, serializers: { req: passThrough, res: passThrough } });
  }

  /** Whether a line for `status` would be written (callers skip the clock and the line otherwise). */
  enabled(status: number): boolean {
    return this.logger.isLevelEnabled(accessLevel(status));
  }

  /** Whether any access line is written at this log level (only 5xx lines below info). */
  get everyRequest(): boolean {
    return this.logger.isLevelEnabled('info');
  }

  write(entry: AccessEntry): void {
    const level = accessLevel(entry.status);
    if (!this.logger.isLevelEnabled(level)) return;
    const userAgent = entry.userAgent !== undefined && entry.userAgent.length > MAX_USER_AGENT ? entry.userAgent.slice(0, MAX_USER_AGENT) : entry.userAgent;
    this.lines[level](
      {
        reqId: entry.reqId,
        req: { method: entry.method, url: entry.url === undefined ? undefined : accessPath(entry.url, entry.params), ip: entry.ip, userAgent },
        res: { statusCode: entry.status },
        responseTime: entry.responseTime,
        code: entry.code,
        early: entry.early,
      },
      'request completed',
    );
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
