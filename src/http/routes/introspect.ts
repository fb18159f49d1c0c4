import { decodeJwt } from 'jose';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

/** RFC 7662's active answer, with curfew's own claims beside the registered ones. */
const activeSchema = {
  type: 'object',
  properties: {
    active: { type: 'boolean' },
    sub: { type: 'string' },
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    iss: { type: 'string' },
    aud: { type: 'string' },
    token_type: { type: 'string' },
    sid: { type: 'string' },
    email: { type: 'string' },
    role: { type: 'string' },
  },
  required: ['active'],
} as const;

/**
 * `POST /api/v1/introspect/` (RFC 7662 token introspection) for service
 * clients authenticated with HTTP Basic. The body is form-urlencoded (the
 * RFC's) or JSON: `token` and an optional `token_type_hint`. Anything that is
 * not a valid, unrevoked access token is `{"active": false}`, with no reason.
 */
export const introspectRoutes: RouteModule = (app, ctx) => {
  app.post<{ Body: { token: string; token_type_hint?: string } }>(
    '/api/v1/introspect/',
    {
      // Before the body is read: a caller without a good credential learns nothing, and costs no parse.
      onRequest: async (request) => {
        await ctx.services.clients.authenticate(request.headers.authorization, request.ip);
      },
      schema: {
        tags: ['auth'],
        summary: 'Token introspection (RFC 7662) for service clients',
        security: [{ clientBasic: [] }],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: {
          type: 'object',
          properties: {
            token: { type: 'string', minLength: 1, maxLength: 8192 },
            token_type_hint: { type: 'string', maxLength: 64 },
          },
          required: ['token'],
          additionalProperties: false,
          examples: [{ token: 'eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl', token_type_hint: 'access_token' }],
        },
        response: { 200: activeSchema, 400: errorBodySchema, 401: errorBodySchema, 429: errorBodySchema },
      },
    },
    async (request, reply) => {
      // RFC 7662 §2.2 and RFC 6749 §5.1: introspection answers must not be cached.
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      const { token } = request.body;
      // The hint is only a hint (§2.1): every token is looked up as an access token.
      const claims = await ctx.services.auth.service.verifyAccessToken(token);
      if (!claims) return { active: false };
      const { iat } = decodeJwt(token);
      return {
        active: true,
        sub: String(claims.userId),
        exp: Math.floor(claims.expiresAt / 1000),
        iat: typeof iat === 'number' ? iat : Math.floor((claims.expiresAt - ctx.config.auth.accessTtlMs) / 1000),
        iss: ctx.config.auth.issuer,
        aud: ctx.config.auth.audience,
        token_type: 'access_token',
        sid: claims.sessionId,
        email: claims.email,
        role: claims.role,
      };
    },
  );
};
