import type { FastifyRequest } from 'fastify';
import type { HttpContext } from './context.js';

/**
 * Whether the request already carries a CSRF cookie bound to its own live
 * session (a valid access cookie, and a CSRF token issued to that session).
 * `GET /api/cronjob/csrf-token` then leaves it alone: a cross-site
 * top-level GET (SameSite=Lax sends the cookies along) must not replace a
 * signed-in user's working token with an anonymous one (issue 16 #13).
 */
export async function hasBoundCsrfCookie(ctx: HttpContext, request: FastifyRequest): Promise<boolean> {
  const { cookies } = ctx.config;
  const access = request.cookies[cookies.accessName];
  const csrf = request.cookies[cookies.csrfName];
  if (!access || !csrf) return false;
  const { service, csrf: tokens } = ctx.services.auth;
  const cached = service.verifyCachedAccessToken(access);
  const claims = cached === null ? await service.verifyAccessToken(access) : cached;
  return claims !== undefined && tokens.isValid(csrf, claims.sessionId);
}
