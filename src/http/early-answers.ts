import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AccessClaims } from '../tokens/access-tokens.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../triggers/signature.js';
import { AccessLog, type AccessEntry } from './access-log.js';
import { ACTIVITY_WRITE_FAILED, accessTokenOf, recordActivity } from './auth.js';
import type { ClientIp } from './client-ip.js';
import type { HttpContext } from './context.js';
import { JSON_CONTENT_TYPE, errorAnswer, writeErrorAnswer } from './error-answer.js';
import { requestIdOf } from './request-id.js';
import { meBody } from './routes/me.js';
import type { TriggerRouteTable } from './trigger-routes.js';

/**
 * The early answers: the server's request listener, in front of Fastify.
 *
 * Contract. Every request gets its request id (`requestIdOf`) and the
 * security headers here. Then this module answers only:
 *
 * 1. `GET /api/v1/me/` (with or without the trailing slash, no query string)
 *    carrying an access token (cookie or Bearer) that this instance has
 *    verified before and its revocation view does not revoke: 200 with the
 *    route's own body (`meBody`), after the same activity write;
 * 2. an unsigned request to a trigger route (no query string, no
 *    percent-escape) that the domain trigger check (`TriggerGuard.authenticate`,
 *    steps 1-3: pure, from the method, path, headers and client IP) refuses:
 *    the refusal through the shared encoder (`errorAnswer`).
 *
 * Everything else goes to Fastify unchanged (the request untouched, the
 * request id handed over for `genReqId`), where the routes decide as if
 * this module did not exist: first sightings of a token, revoked or missing
 * tokens, HEAD, query strings, signed triggers, accepted credentials.
 *
 * What the two paths share, one function per thing: the /me body
 * (`meBody`), the refusal encoder (`errorAnswer`: status, envelope,
 * headers), the request-id rule (`requestIdOf`), the client address
 * (`clientIpResolver`, Fastify's own rule), the security headers
 * (`securityHeaders`) and the access-log policy (`AccessLog`: one line per
 * request, the same on both paths).
 *
 * Why: a polling browser's `/me` and a flood of wrong trigger secrets then
 * cost about what a bare HTTP answer costs (bench/RESULTS.md). The price is
 * that Fastify's hooks do not run for these answers: every hook the
 * answered routes have is listed in `EARLY_PATH_COVERS` with what stands in
 * for it here, and test/http/early-answers.test.ts fails when a route
 * answered here gains a hook that is not listed (a global CORS or metrics
 * hook, say): then do its work here too, or stop answering early.
 */
export interface EarlyAnswerOptions {
  readonly ctx: HttpContext;
  /** The cookie plugin's parser (`app.parseCookie`), read lazily: the plugin registers after the server is built. */
  readonly parseCookie: () => (header: string) => Record<string, string | undefined>;
  /** The routes marked `config: { trigger: true }`, filled by an onRoute hook. */
  readonly triggerRoutes: TriggerRouteTable;
  readonly clientIp: ClientIp;
  readonly accessLog: AccessLog;
  /** `securityHeaders(...)`: sent on every answer. */
  readonly securityHead: readonly string[];
  /** True while the server drains for shutdown (shutdown.ts): then nothing is answered early, Fastify answers 503. */
  readonly draining?: () => boolean;
}

/**
 * The Fastify hooks of the routes answered early, by hook name, and why
 * skipping each is safe. Hook functions are named for this list.
 */
export const EARLY_PATH_COVERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  onRequest: {
    refuseWhileDraining: 'frontDoor answers nothing early while the drain is on (options.draining), so Fastify answers 503',
    refuseControlCharacters: 'checks params and query; the early answers take only routes without params and requests without a query string',
    guardOpsRoutes: 'acts only on /metrics, /openapi.json and /docs, which are never answered early',
    fastifyCookieHandler: 'the early /me parses the Cookie header with the same plugin parser (app.parseCookie)',
    triggerCredentialCheck: 'the early refusal runs the same TriggerGuard.authenticate and answers only its refusals',
  },
  preValidation: {
    triggerAdmission: 'runs only for requests triggerCredentialCheck accepted; the early path answers only refusals',
  },
  preHandler: {
    refuseControlCharactersInBody: 'checks the body; the early /me is a GET without one, and an early refusal reads no body',
    authStepHook: 'the early /me answers only cached, unrevoked tokens and records the same activity (recordActivity)',
  },
  onSend: {
    fastifyCookieOnSendHandler: 'writes Set-Cookie only for reply.setCookie; neither /me nor a refusal sets cookies',
  },
};

/** `(req, res, requestId, head) => handled`: true when the request was answered here. */
type EarlyAnswer = (req: IncomingMessage, res: ServerResponse, requestId: string) => boolean;

/** Where the listener leaves the request id for Fastify's `genReqId`. */
const REQUEST_ID = Symbol('curfew.requestId');
type TaggedRequest = IncomingMessage & { [REQUEST_ID]?: string };

/** Fastify's `genReqId`: the id the listener gave the request (`inject()` bypasses the listener: the same rule then). */
export function fastifyRequestId(req: IncomingMessage): string {
  return (req as TaggedRequest)[REQUEST_ID] ?? requestIdOf(req);
}

/**
 * The server's request listener: request id and security headers for every
 * request, the early answers, else `fastify(req, res)` with the request
 * unchanged.
 */
export function frontDoor(options: EarlyAnswerOptions, fastify: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  const { securityHead } = options;
  const early = [earlyMe(options), earlyTriggerRefusal(options)];
  const logger = options.ctx.logger;
  return (req, res) => {
    const id = requestIdOf(req);
    try {
      if (options.draining?.() !== true) for (const answer of early) if (answer(req, res, id)) return;
    } catch (error) {
      // Never expected; but a throw here would reach no error handler, so
      // log it and let Fastify answer (or drop a half-answered socket).
      logger.error({ err: error, reqId: id }, 'early answer failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
    }
    (req as TaggedRequest)[REQUEST_ID] = id;
    res.setHeader('x-request-id', id);
    for (let i = 0; i < securityHead.length; i += 2) res.setHeader(securityHead[i] as string, securityHead[i + 1] as string);
    fastify(req, res);
  };
}

/** `x-request-id` and the security headers, as the head every early answer starts with. */
function headOf(securityHead: readonly string[], id: string): string[] {
  return ['x-request-id', id, ...securityHead];
}

function logEntry(req: IncomingMessage, id: string, ip: string | undefined, status: number, started: number, code?: string): AccessEntry {
  return AccessLog.entryOf(req, id, ip, status, performance.now() - started, code);
}

const ME_PATH = /^\/api\/v1\/me\/?$/;

/** Answer 1 of the contract: `GET /api/v1/me/` from memory. */
function earlyMe(options: EarlyAnswerOptions): EarlyAnswer {
  const { ctx, accessLog, securityHead, clientIp } = options;
  const { service } = ctx.services.auth;
  const accessName = ctx.config.cookies.accessName;

  // The head, built once: each answer copies it and fills in the request id and the length.
  const meHead = [...headOf(securityHead, ''), 'content-type', JSON_CONTENT_TYPE, 'content-length', ''];
  const answer = (req: IncomingMessage, res: ServerResponse, id: string, claims: AccessClaims, started: number | undefined) => {
    const body = meBody(claims);
    const head = meHead.slice();
    head[1] = id;
    head[head.length - 1] = body.length;
    res.writeHead(200, head);
    res.end(body.text);
    if (started !== undefined) accessLog.write(logEntry(req, id, clientIp(req), 200, started));
  };

  return (req, res, id) => {
    if (req.method !== 'GET' || !ME_PATH.test(req.url ?? '')) return false;
    const cookieHeader = req.headers.cookie;
    const cookie = cookieHeader === undefined ? undefined : options.parseCookie()(cookieHeader)[accessName];
    const credential = accessTokenOf(cookie, req.headers.authorization);
    if (credential === undefined) return false;
    const claims = service.verifyCachedAccessToken(credential.token);
    if (!claims) return false;
    // Undefined when the line is off: then neither the clock nor the line.
    const started = accessLog.enabled(200) ? performance.now() : undefined;
    const write = recordActivity(ctx, claims);
    if (write === undefined) {
      answer(req, res, id, claims, started);
      return true;
    }
    write
      .then(
        () => answer(req, res, id, claims, started),
        (error: unknown) => {
          ctx.logger.warn({ err: error, reqId: id }, ACTIVITY_WRITE_FAILED);
          answer(req, res, id, claims, started);
        },
      )
      .catch((error: unknown) => {
        ctx.logger.error({ err: error, reqId: id }, 'early answer failed');
        res.destroy();
      });
    return true;
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * Answer 2 of the contract: a trigger request the domain check refuses from
 * its head alone, refused before Fastify builds a request, runs hooks or
 * reads the body (the connection stays usable: Node discards the unread body).
 */
function earlyTriggerRefusal(options: EarlyAnswerOptions): EarlyAnswer {
  const { triggerRoutes, accessLog, securityHead, clientIp } = options;
  const { triggers, metrics } = options.ctx.services;
  return (req, res, id) => {
    const url = req.url ?? '';
    if (url.includes('?') || url.includes('%')) return false;
    if (!triggerRoutes.matches(req.method ?? '', url)) return false;
    const { headers } = req;
    if (headers[SIGNATURE_HEADER] !== undefined || headers[TIMESTAMP_HEADER] !== undefined) return false;
    const ip = clientIp(req);
    if (ip === undefined) return false;
    const result = triggers.authenticate({
      method: req.method ?? '',
      url,
      header: (name) => {
        const value = headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
      queryToken: undefined,
      body: EMPTY,
      ip,
      route: url,
    });
    if (result.ok) return false;
    const started = accessLog.enabled(result.status) ? performance.now() : undefined;
    metrics.triggerRejections.inc({ code: result.code });
    writeErrorAnswer(res, headOf(securityHead, id), errorAnswer(result.status, result.code, result.message, result.headers));
    if (started !== undefined) accessLog.write(logEntry(req, id, ip, result.status, started, result.code));
    return true;
  };
}
