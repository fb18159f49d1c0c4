import type { FastifyError, FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { csrfFailure } from '../auth/csrf.js';
import { AppError } from '../errors.js';
import type { AccessClaims } from '../tokens/access-tokens.js';
import type { HttpContext } from './context.js';

/** The authenticated caller, set by requireUser on `request.auth`. */
export interface RequestAuth extends AccessClaims {
  /** How the access token came: the cookie (CSRF applies) or an `Authorization: Bearer` header (it does not). */
  readonly via: 'cookie' | 'bearer';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Null until requireUser (or requireCsrf / requireAdmin) has run. */
    auth: RequestAuth | null;
  }
}

/**
 * One authentication step of a route. Synchronous in the common case (a
 * cached token, no activity write due); a promise only when it has to wait.
 */
export type AuthStep = (request: FastifyRequest) => void | Promise<void>;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Declares `request.auth` once on the root instance; every auth route module calls it. */
export function installAuth(app: FastifyInstance): void {
  if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
}

/** `next(value)`, without a promise unless `value` is one. */
function andThen<T>(value: T | Promise<T>, next: (value: T) => void): void | Promise<void> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/**
 * A step as a callback-style Fastify hook: a synchronous step costs no
 * promise and no microtask, which on `/me` was most of curfew's own work
 * per request (bench/RESULTS.md).
 */
function asHook(step: AuthStep): preHandlerHookHandler {
  // Named: the early answers list the hooks they stand in for by name (early-answers.ts).
  return function authStepHook(request, _reply, done) {
    let result: void | Promise<void>;
    try {
      result = step(request);
    } catch (error) {
      done(error as FastifyError);
      return;
    }
    if (result instanceof Promise) result.then(() => done(), (error: unknown) => done(error as FastifyError));
    else done();
  };
}

/** One RequestAuth per verified token and transport, so a cached token costs no new object. */
const requestAuths = { cookie: new WeakMap<AccessClaims, RequestAuth>(), bearer: new WeakMap<AccessClaims, RequestAuth>() };

function requestAuth(claims: AccessClaims, via: RequestAuth['via']): RequestAuth {
  let auth = requestAuths[via].get(claims);
  if (auth === undefined) {
    auth = { ...claims, via };
    requestAuths[via].set(claims, auth);
  }
  return auth;
}

/**
 * The access token a request carries: the access cookie, else an
 * `Authorization: Bearer` header. Shared with the /me fast path.
 */
export function accessTokenOf(cookie: string | undefined, authorization: string | undefined): { token: string; via: RequestAuth['via'] } | undefined {
  if (cookie) return { token: cookie, via: 'cookie' };
  if (authorization !== undefined && authorization.startsWith('Bearer ')) {
    const token = authorization.slice('Bearer '.length).trim();
    if (token) return { token, via: 'bearer' };
  }
  return undefined;
}

/**
 * Authenticated requests are activity: the user's and the session's
 * last_seen_at, each throttled in memory to one write a minute. Returns the
 * session write when one was due: callers await it (so no write outlives its
 * request) and, when it fails, log ACTIVITY_WRITE_FAILED and answer anyway.
 */
export function recordActivity(ctx: HttpContext, claims: AccessClaims): Promise<void> | undefined {
  ctx.services.presence.touch(claims.userId);
  return ctx.services.auth.sessions.touch(claims.sessionId);
}

/** The warning logged when a session's activity write fails (the request still succeeds). */
export const ACTIVITY_WRITE_FAILED = 'session activity write failed';

function authenticate(ctx: HttpContext, request: FastifyRequest): RequestAuth | Promise<RequestAuth> {
  if (request.auth) return request.auth;
  const credential = accessTokenOf(request.cookies[ctx.config.cookies.accessName], request.headers.authorization);
  if (credential === undefined) throw new AppError('UNAUTHENTICATED', 'Authentication credentials were not provided.');
  const { token, via } = credential;
  const { service } = ctx.services.auth;
  const cached = service.verifyCachedAccessToken(token);
  if (cached !== null) return admit(ctx, request, cached, via);
  return service.verifyAccessToken(token).then((claims) => admit(ctx, request, claims, via));
}

function admit(
  ctx: HttpContext,
  request: FastifyRequest,
  claims: AccessClaims | undefined,
  via: RequestAuth['via'],
): RequestAuth | Promise<RequestAuth> {
  if (!claims) throw new AppError('UNAUTHENTICATED', 'The access token is invalid, expired or revoked.');
  const auth = requestAuth(claims, via);
  request.auth = auth;
  const write = recordActivity(ctx, claims);
  if (write === undefined) return auth;
  return write.then(
    () => auth,
    (error: unknown) => {
      request.log.warn({ err: error }, ACTIVITY_WRITE_FAILED);
      return auth;
    },
  );
}

/** For unsafe methods authenticated by cookie: the Origin allow-list and the signed double-submit token. */
function checkCsrf(ctx: HttpContext, request: FastifyRequest, auth: RequestAuth): void {
  if (auth.via !== 'cookie' || SAFE_METHODS.has(request.method)) return;
  const header = request.headers['x-csrftoken'];
  const failure = csrfFailure(
    ctx.services.auth.csrf,
    {
      origin: request.headers.origin,
      header: typeof header === 'string' ? header : undefined,
      cookie: request.cookies[ctx.config.cookies.csrfName],
      sessionId: auth.sessionId,
    },
    ctx.config.allowedOrigins,
  );
  if (failure !== undefined) throw new AppError('CSRF_FAILED', failure);
}

/** A valid, unrevoked access token (the access cookie, or `Authorization: Bearer`), else 401 UNAUTHENTICATED. */
export function userCheck(ctx: HttpContext): AuthStep {
  return (request) => andThen(authenticate(ctx, request), () => undefined);
}

/** userCheck, then the CSRF check for unsafe methods authenticated by cookie. */
export function csrfCheck(ctx: HttpContext): AuthStep {
  return (request) => andThen(authenticate(ctx, request), (auth) => checkCsrf(ctx, request, auth));
}

/** csrfCheck, then the `admin` role, else 403 FORBIDDEN. */
export function adminCheck(ctx: HttpContext): AuthStep {
  return (request) =>
    andThen(authenticate(ctx, request), (auth) => {
      checkCsrf(ctx, request, auth);
      if (auth.role !== 'admin') throw new AppError('FORBIDDEN', 'This needs the admin role.');
    });
}

/**
 * preHandler: a valid, unrevoked access token (the access cookie, or an
 * `Authorization: Bearer` header) or 401 UNAUTHENTICATED. No database query.
 */
export function requireUser(ctx: HttpContext): preHandlerHookHandler {
  return asHook(userCheck(ctx));
}

/**
 * preHandler: requireUser, then for unsafe methods authenticated by cookie the
 * signed double-submit check: an `Origin` (if sent) in ALLOWED_ORIGINS,
 * `X-CSRFToken` equal to the CSRF cookie and issued to this session; else 403
 * CSRF_FAILED. Unauthenticated requests get 401 before any CSRF check.
 */
export function requireCsrf(ctx: HttpContext): preHandlerHookHandler {
  return asHook(csrfCheck(ctx));
}

/** preHandler: requireCsrf, then the `admin` role or 403 FORBIDDEN. */
export function requireAdmin(ctx: HttpContext): preHandlerHookHandler {
  return asHook(adminCheck(ctx));
}
