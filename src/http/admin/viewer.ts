import type { FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { userCheck, type RequestAuth } from '../auth.js';
import type { HttpContext } from '../context.js';

/** Who opened a console page. */
export type Viewer =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly auth: RequestAuth }
  | { readonly kind: 'admin'; readonly auth: RequestAuth };

/**
 * The viewer of a page, from the same access token (cookie) the API reads,
 * checked the same way (signature, expiry, revocation): no access token or
 * a dead one is `anonymous` (the page shows the sign-in form), a valid one
 * without the admin role is `user` (the "not an administrator" page).
 */
export function pageViewer(ctx: HttpContext): (request: FastifyRequest) => Promise<Viewer> {
  const check = userCheck(ctx);
  return async (request) => {
    try {
      await check(request);
    } catch (error) {
      if (isAppError(error) && error.status === 401) return { kind: 'anonymous' };
      throw error;
    }
    const auth = request.auth as RequestAuth;
    return auth.role === 'admin' ? { kind: 'admin', auth } : { kind: 'user', auth };
  };
}
