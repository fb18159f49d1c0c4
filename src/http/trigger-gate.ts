import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GuardRefusal, TriggerGuard } from '../triggers/guard.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../triggers/signature.js';

/** A trigger route as registered: method and Fastify path (`:param` segments allowed). */
export interface TriggerRoute {
  readonly method: string;
  readonly url: string;
}

/**
 * The trigger routes the gate watches, filled while routes are registered
 * (an onRoute hook adds every route whose config says `trigger: true`), so
 * the gate and the routes cannot disagree about which paths are triggers.
 */
export class TriggerRouteTable {
  private readonly byMethod = new Map<string, RegExp[]>();

  constructor(private readonly maxParamLength: number) {}

  add(route: TriggerRoute): void {
    const patterns = this.byMethod.get(route.method) ?? [];
    patterns.push(pathPattern(route.url, this.maxParamLength));
    this.byMethod.set(route.method, patterns);
  }

  matches(method: string, path: string): boolean {
    return this.byMethod.get(method)?.some((pattern) => pattern.test(path)) ?? false;
  }
}

export interface TriggerGateOptions {
  readonly routes: TriggerRouteTable;
  readonly guard: TriggerGuard;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * The client's address when the socket's peer is the client (no trusted
   * proxy); undefined defers every IP-dependent decision to Fastify.
   */
  readonly clientIp: ((req: IncomingMessage) => string | undefined) | undefined;
  /** True when CRON_IP_ALLOWLIST is set: refusals then depend on the client's address. */
  readonly ipAllowlisted: boolean;
}

/** `(req, res, requestId) => handled`: true when the gate answered the request itself. */
export type TriggerGate = (req: IncomingMessage, res: ServerResponse, requestId: string) => boolean;

const EMPTY = Buffer.alloc(0);

/** `maxParamLength` is Fastify's: a longer `:param` segment is not a route match. */
function pathPattern(url: string, maxParamLength: number): RegExp {
  const segments = url.split('/').map((segment) =>
    segment.startsWith(':') ? `[^/]{1,${maxParamLength}}` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  // ignoreTrailingSlash: `/cron/run` and `/cron/run/` are one route.
  return new RegExp(`^${segments.join('/')}/?$`);
}

/**
 * Refuses unsigned trigger requests with a wrong or missing credential in
 * the server's request listener, before Fastify builds a request, runs its
 * hooks or creates a reply: a flood of wrong secrets then costs about what
 * a bare HTTP answer costs (bench/RESULTS.md, issue 3).
 *
 * The gate only ever says no, and only when the answer is certain from the
 * method, path and headers alone: the same pure TriggerGuard.authenticate
 * the routes' own onRequest hook runs, the same envelope, status, headers
 * and metric. Everything else goes on to Fastify untouched, where the
 * routes' hooks decide as before: signed requests (the signature covers the
 * body), URLs with a query string or a percent-escape, other methods and
 * paths, accepted credentials (still throttled there), and, behind a
 * trusted proxy with CRON_IP_ALLOWLIST set, everything.
 */
export function triggerGate(options: TriggerGateOptions): TriggerGate {
  const { routes, guard, metrics, logger } = options;
  // The guard's refusals are a handful of fixed messages: encode each once.
  const bodies = new Map<string, { readonly bytes: Buffer; readonly length: string }>();
  const bodyOf = (refusal: GuardRefusal) => {
    const key = `${refusal.code}\n${refusal.message}`;
    let body = bodies.get(key);
    if (body === undefined) {
      const bytes = Buffer.from(JSON.stringify({ error: { code: refusal.code, message: refusal.message } }));
      body = { bytes, length: String(bytes.length) };
      if (bodies.size < 64) bodies.set(key, body);
    }
    return body;
  };

  return (req, res, reqId) => {
    const url = req.url ?? '';
    if (url.includes('?') || url.includes('%')) return false;
    if (!routes.matches(req.method ?? '', url)) return false;
    const { headers } = req;
    if (headers[SIGNATURE_HEADER] !== undefined || headers[TIMESTAMP_HEADER] !== undefined) return false;
    const ip = options.clientIp?.(req);
    if (ip === undefined && options.ipAllowlisted) return false;
    const result = guard.authenticate({
      method: req.method ?? '',
      url,
      header: (name) => {
        const value = headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
      queryToken: undefined,
      body: EMPTY,
      ip: ip ?? '',
      route: url,
    });
    if (result.ok) return false;
    refuse(req, res, reqId, result);
    return true;
  };

  function refuse(req: IncomingMessage, res: ServerResponse, reqId: string, refusal: GuardRefusal): void {
    const level = refusal.status >= 500 ? 'warn' : 'info';
    const started = logger.isLevelEnabled(level) ? performance.now() : undefined;
    metrics.triggerRejections.inc({ code: refusal.code });
    const body = bodyOf(refusal);
    // A flat [name, value, ...] list in one writeHead: Node's cheapest form.
    const head = ['x-request-id', reqId, 'content-type', 'application/json; charset=utf-8', 'content-length', body.length];
    for (const name in refusal.headers) head.push(name, refusal.headers[name] as string);
    res.writeHead(refusal.status, head);
    res.end(body.bytes);
    // What Fastify's request logging would have said, in one line; `req`'s serializer redacts the URL.
    if (started !== undefined) {
      logger[level](
        {
          reqId,
          req: { id: reqId, method: req.method, url: req.url, ip: req.socket.remoteAddress, headers: req.headers },
          res: { statusCode: refusal.status },
          code: refusal.code,
          responseTime: performance.now() - started,
        },
        'cron trigger refused',
      );
    }
  }
}
