import type { FastifyReply } from 'fastify';
import type { IssuedTokens } from '../auth/auth-service.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';

/** Path of the refresh cookie: sent to /api/v1/login/refresh/ and /api/v1/logout/ only. */
export const REFRESH_COOKIE_PATH = '/api/v1/';

/**
 * Sets the three auth cookies: the access token (HttpOnly, Lax, Path=/), the
 * refresh token (HttpOnly, Strict, Path=/api/v1/) and the CSRF token
 * (readable by scripts, Lax, Path=/). `Secure` unless COOKIE_SECURE=false.
 */
export function setAuthCookies(reply: FastifyReply, config: Config, clock: Clock, tokens: IssuedTokens): void {
  const { cookies } = config;
  const now = clock.now();
  const seconds = (until: number) => Math.max(1, Math.floor((until - now) / 1000));
  reply.setCookie(cookies.accessName, tokens.accessToken, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: cookies.secure,
    maxAge: seconds(tokens.accessExpiresAt),
  });
  reply.setCookie(cookies.refreshName, tokens.refreshToken, {
    httpOnly: true,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
    secure: cookies.secure,
    maxAge: seconds(tokens.refreshExpiresAt),
  });
  reply.setCookie(cookies.csrfName, tokens.csrfToken, {
    httpOnly: false,
    sameSite: 'lax',
    path: '/',
    secure: cookies.secure,
    maxAge: seconds(tokens.refreshExpiresAt),
  });
}

/** Expires the three auth cookies (same paths as set). */
export function clearAuthCookies(reply: FastifyReply, config: Config): void {
  const { cookies } = config;
  reply.clearCookie(cookies.accessName, { path: '/', httpOnly: true, sameSite: 'lax', secure: cookies.secure });
  reply.clearCookie(cookies.refreshName, { path: REFRESH_COOKIE_PATH, httpOnly: true, sameSite: 'strict', secure: cookies.secure });
  reply.clearCookie(cookies.csrfName, { path: '/', sameSite: 'lax', secure: cookies.secure });
}
