import { AppError } from '../../errors.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

/**
 * `POST /api/v1/verify/` `{"token": "<access token>"}`: 200 with the user and
 * session id from a valid, unrevoked token, else 401 INVALID_TOKEN.
 */
export const verifyRoutes: RouteModule = (app, ctx) => {
  app.post<{ Body: { token: string } }>(
    '/api/v1/verify/',
    {
      schema: {
        tags: ['auth'],
        summary: 'Verify an access token',
        body: {
          type: 'object',
          properties: { token: { type: 'string', minLength: 1, maxLength: 8192 } },
          required: ['token'],
          additionalProperties: false,
          examples: [{ token: 'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl' }],
        },
        response: {
          200: {
            type: 'object',
            properties: {
              user: {
                type: 'object',
                properties: { id: { type: 'integer' }, email: { type: 'string' }, role: { type: 'string' } },
                required: ['id', 'email', 'role'],
              },
              session_id: { type: 'string' },
              expires_at: { type: 'string' },
            },
            required: ['user', 'session_id', 'expires_at'],
          },
          400: errorBodySchema,
          401: errorBodySchema,
        },
      },
    },
    async (request) => {
      const claims = await ctx.services.auth.service.verifyAccessToken(request.body.token);
      if (!claims) throw new AppError('INVALID_TOKEN', 'The token is invalid, expired or revoked.');
      return {
        user: { id: claims.userId, email: claims.email, role: claims.role },
        session_id: claims.sessionId,
        expires_at: new Date(claims.expiresAt).toISOString(),
      };
    },
  );
};
