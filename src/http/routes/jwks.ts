import type { RouteModule } from '../context.js';

/** `GET /.well-known/jwks.json`: every public signing key still in use (current and recently retired). */
export const jwksRoutes: RouteModule = (app, ctx) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys for verifying access tokens offline',
        response: {
          200: {
            type: 'object',
            properties: {
              keys: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kty: { type: 'string' },
                    crv: { type: 'string' },
                    x: { type: 'string' },
                    kid: { type: 'string' },
                    alg: { type: 'string' },
                    use: { type: 'string' },
                  },
                  required: ['kty', 'crv', 'x', 'kid', 'alg', 'use'],
                },
              },
            },
            required: ['keys'],
          },
        },
      },
    },
    async (_request, reply) => {
      // Short caching: a rotated key must reach verifiers well within one access-token lifetime.
      reply.header('cache-control', 'public, max-age=60');
      return ctx.services.auth.keys.jwks();
    },
  );
};
