/**
 * Thin adapters over a Verifier: a Fastify plugin and an Express-style
 * middleware. Both read the access cookie or an `Authorization: Bearer`
 * header and put the verified user on `request.user`. They are typed
 * structurally, so neither fastify nor express is a dependency.
 */
import type { Verifier, VerifiedUser } from './types.js';

export interface AdapterOptions {
  /** The access cookie's name (curfew's ACCESS_COOKIE_NAME, default `access_token`). */
  readonly cookieName?: string;
  /** Answer 401 when there is no valid token (default true); false lets the request through with `user` null. */
  readonly required?: boolean;
}

type HeaderValue = string | string[] | undefined;
type Headers = Readonly<Record<string, HeaderValue>>;

const UNAUTHENTICATED = JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'The access token is missing, invalid, expired or revoked.' } });

function cookie(header: HeaderValue, name: string): string | undefined {
  const value = Array.isArray(header) ? header.join('; ') : header;
  if (!value) return undefined;
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

/** The access token of a request: the cookie first, else `Authorization: Bearer`. */
export function tokenFromRequest(headers: Headers, cookieName = 'access_token'): string | undefined {
  const fromCookie = cookie(headers.cookie, cookieName);
  if (fromCookie) return fromCookie;
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && /^Bearer\s+/i.test(authorization)) {
    const token = authorization.replace(/^Bearer\s+/i, '').trim();
    return token || undefined;
  }
  return undefined;
}

/** The parts of a Fastify request and reply the plugin uses. */
export interface FastifyRequestLike {
  readonly headers: Headers;
  user?: VerifiedUser | null;
}
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  type(contentType: string): FastifyReplyLike;
  send(body: string): unknown;
}
export interface FastifyInstanceLike {
  decorateRequest(name: 'user', value: null): unknown;
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

/**
 * A Fastify plugin: `await app.register(verifyPlugin(verifier))`. Routes of
 * the scope it is registered in get `request.user` (and 401 without a
 * valid token unless `required: false`). Registered without encapsulation
 * (like fastify-plugin), so the hook covers the registering scope.
 */
export function verifyPlugin(verifier: Verifier, options: AdapterOptions = {}) {
  const plugin = async (app: FastifyInstanceLike): Promise<void> => {
    app.decorateRequest('user', null);
    app.addHook('onRequest', async (request, reply) => {
      const token = tokenFromRequest(request.headers, options.cookieName);
      const user = token === undefined ? null : await verifier.verify(token);
      request.user = user;
      if (user === null && (options.required ?? true)) {
        return reply.code(401).header('www-authenticate', 'Bearer').type('application/json; charset=utf-8').send(UNAUTHENTICATED);
      }
      return undefined;
    });
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'curfew-verify' });
}

/** The parts of an Express (or plain node:http) request and response the middleware uses. */
export interface MiddlewareRequest {
  readonly headers: Headers;
  user?: VerifiedUser | null;
}
export interface MiddlewareResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/**
 * Express-style middleware: `app.use(verifyMiddleware(verifier))`. Sets
 * `req.user`; without a valid token answers 401 (unless `required: false`).
 * Verification failures never reach `next(error)`: a bad token is a 401, not a 500.
 */
export function verifyMiddleware(verifier: Verifier, options: AdapterOptions = {}) {
  return (req: MiddlewareRequest, res: MiddlewareResponse, next: (error?: unknown) => void): void => {
    const token = tokenFromRequest(req.headers, options.cookieName);
    const verified = token === undefined ? Promise.resolve(null) : verifier.verify(token);
    verified.then(
      (user) => {
        req.user = user;
        if (user === null && (options.required ?? true)) {
          res.statusCode = 401;
          res.setHeader('www-authenticate', 'Bearer');
          res.setHeader('content-type', 'application/json; charset=utf-8');
          res.end(UNAUTHENTICATED);
          return;
        }
        next();
      },
      (error: unknown) => next(error),
    );
  };
}
