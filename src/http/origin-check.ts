import type { FastifyError, onRequestHookHandler } from 'fastify';
import { AppError } from '../errors.js';

/**
 * The origin a browser says the request comes from: `Origin` when sent
 * (`null` included: sandboxed frames, redirects, file:// pages), else the
 * origin of `Referer`; undefined for a caller that sends neither (curl, a
 * server-side client), which this check lets through.
 */
export function claimedOrigin(origin: string | undefined, referer: string | undefined): string | undefined {
  if (origin !== undefined) return origin;
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    // An unparsable Referer is not an allowed origin either.
    return 'null';
  }
}

/**
 * onRequest hook for routes that take credentials without a session yet
 * (login, register): a browser request whose Origin (or Referer) is not in
 * ALLOWED_ORIGINS gets 403 CSRF_FAILED before the body is read, so a
 * cross-site form cannot sign a victim in to the attacker's account (login
 * CSRF, issue 16 #10). `*` in the allow-list admits every origin.
 */
export function refuseForeignOrigin(allowedOrigins: readonly string[]): onRequestHookHandler {
  const anyOrigin = allowedOrigins.includes('*');
  return (request, _reply, done) => {
    const origin = claimedOrigin(request.headers.origin, request.headers.referer);
    if (origin === undefined || anyOrigin || allowedOrigins.includes(origin)) {
      done();
      return;
    }
    done(new AppError('CSRF_FAILED', 'The request origin is not allowed.') as unknown as FastifyError);
  };
}
