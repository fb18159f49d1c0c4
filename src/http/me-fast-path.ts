import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessClaims } from '../tokens/access-tokens.js';
import { ACTIVITY_WRITE_FAILED, accessTokenOf, recordActivity } from './auth.js';
import type { HttpContext } from './context.js';

/** What Fastify's cookie plugin parses the Cookie header with (`app.parseCookie`). */
export type CookieParser = (header: string) => Record<string, string | undefined>;

/** `(req, res, requestId) => handled`: true when the fast path answered the request itself. */
export type MeFastPath = (req: IncomingMessage, res: ServerResponse, requestId: string) => boolean;

const ME_PATH = /^\/api\/v1\/me\/?$/;

/** A serialised answer and its Content-Length. */
interface Body {
  readonly text: string;
  readonly length: string;
}

/**
 * `GET /api/v1/me/` answered in the server's listener when the whole answer
 * is already in memory: the request carries an access token this instance
 * has verified before (the token cache) and the revocation view does not
 * revoke. It records the same activity as the route (and waits for the
 * session write when one is due) and answers the same body, so a browser
 * polling /me costs about what a bare HTTP answer costs (bench/RESULTS.md).
 *
 * Anything else goes on to the Fastify route untouched, which decides as
 * before: a token seen for the first time (its signature is checked there,
 * then cached), a revoked, expired or missing one (401 there), HEAD, a
 * query string. With info logging on, the fast path writes one `request
 * completed` line where Fastify writes two.
 */
export function meFastPath(ctx: HttpContext, parseCookie: () => CookieParser): MeFastPath {
  const { service } = ctx.services.auth;
  const accessName = ctx.config.cookies.accessName;
  const logger = ctx.logger;
  // The body depends only on the verified claims: serialise it once per token.
  const bodies = new WeakMap<AccessClaims, Body>();

  return (req, res, reqId) => {
    if (req.method !== 'GET' || !ME_PATH.test(req.url ?? '')) return false;
    const cookieHeader = req.headers.cookie;
    const cookie = cookieHeader === undefined ? undefined : parseCookie()(cookieHeader)[accessName];
    const credential = accessTokenOf(cookie, req.headers.authorization);
    if (credential === undefined) return false;
    const claims = service.verifyCachedAccessToken(credential.token);
    if (!claims) return false;
    // Undefined when info lines are off: then neither the clock nor the line.
    const started = logger.isLevelEnabled('info') ? performance.now() : undefined;
    let body = bodies.get(claims);
    if (body === undefined) {
      const text = JSON.stringify({ id: claims.userId, email: claims.email, role: claims.role });
      body = { text, length: String(Buffer.byteLength(text)) };
      bodies.set(claims, body);
    }
    const write = recordActivity(ctx, claims);
    if (write === undefined) answer(req, res, reqId, body, started);
    else {
      const payload = body;
      write
        .then(
          () => answer(req, res, reqId, payload, started),
          (error: unknown) => {
            logger.warn({ err: error, reqId }, ACTIVITY_WRITE_FAILED);
            answer(req, res, reqId, payload, started);
          },
        )
        .catch((error: unknown) => {
          logger.error({ err: error, reqId }, 'early answer failed');
          res.destroy();
        });
    }
    return true;
  };

  /** 200 with the body; with info logging on, the one access-log line. */
  function answer(req: IncomingMessage, res: ServerResponse, reqId: string, body: Body, started: number | undefined): void {
    res.writeHead(200, ['x-request-id', reqId, 'content-type', 'application/json; charset=utf-8', 'content-length', body.length]);
    res.end(body.text);
    if (started === undefined) return;
    logger.info(
      {
        reqId,
        req: { id: reqId, method: req.method, url: req.url, ip: req.socket.remoteAddress, headers: req.headers },
        res: { statusCode: 200 },
        responseTime: performance.now() - started,
      },
      'request completed',
    );
  }
}
