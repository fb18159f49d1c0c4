import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Declares `request.auth` once on the root instance; every auth route module calls it. */
export function installAuth(app: FastifyInstance): void {
  if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
}

async function authenticate(ctx: HttpContext, request: FastifyRequest): Promise<RequestAuth> {
  if (request.auth) return request.auth;
  let token = request.cookies[ctx.config.cookies.accessName];
  let via: RequestAuth['via'] = 'cookie';
  const header = request.headers.authorization;
  if (!token && header !== undefined && header.startsWith('Bearer ')) {
    token = header.slice('Bearer '.length).trim();
    via = 'bearer';
  }
  if (!token) throw new AppError('UNAUTHENTICATED', 'Authentication credentials were not provided.');
  const claims = await ctx.services.auth.service.verifyAccessToken(token);
  if (!claims) throw new AppError('UNAUTHENTICATED', 'The access token is invalid, expired or revoked.');
  request.auth = { ...claims, via };
  // Authenticated requests are activity: the user's and the session's
  // last_seen_at, each throttled in memory to one write a minute.
  ctx.services.presence.touch(claims.userId);
  // Awaited (it is one write a minute per session) so no write outlives the request.
  await ctx.services.auth.sessions.touch(claims.sessionId).catch((error: unknown) => {
    request.log.warn({ err: error }, 'session activity write failed');
  });
  return request.auth;
}

/**
 * preHandler: a valid, unrevoked access token (the access cookie, or an
 * `Authorization: Bearer` header) or 401 UNAUTHENTICATED. No database query.
 */
export function requireUser(ctx: HttpContext): PreHandler {
  return async (request) => {
    await authenticate(ctx, request);
  };
}

/**
 * preHandler: requireUser, then for unsafe methods authenticated by cookie the
 * signed double-submit check: an `Origin` (if sent) in ALLOWED_ORIGINS,
 * `X-CSRFToken` equal to the CSRF cookie and issued to this session; else 403
 * CSRF_FAILED. Unauthenticated requests get 401 before any CSRF check.
 */
export function requireCsrf(ctx: HttpContext): PreHandler {
  return async (request) => {
    const auth = await authenticate(ctx, request);
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
  };
}

/** preHandler: requireCsrf, then the `admin` role or 403 FORBIDDEN. */
export function requireAdmin(ctx: HttpContext): PreHandler {
  const csrf = requireCsrf(ctx);
  return async (request, reply) => {
    await csrf(request, reply);
    if (request.auth?.role !== 'admin') throw new AppError('FORBIDDEN', 'This needs the admin role.');
  };
}
