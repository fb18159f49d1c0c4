import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { AppError } from '../../errors.js';
import { installAuth, requireCsrf, requireUser } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

const claimsUserSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, email: { type: 'string' }, role: { type: 'string', enum: ['user', 'admin'] } },
  required: ['id', 'email', 'role'],
} as const;

/**
 * `GET /api/v1/me/`: the caller from the access token's claims (no query).
 * `POST /api/v1/test/`: the seed's CSRF-protected test endpoint; answers the user.
 */
export const meRoutes: RouteModule = (app, ctx) => {
  installAuth(app);

  app.get(
    '/api/v1/me/',
    {
      preHandler: requireUser(ctx),
      schema: {
        tags: ['auth'],
        summary: 'The current user, from the access token',
        security: [{ cookieAuth: [] }],
        response: { 200: claimsUserSchema, 401: errorBodySchema },
      },
    },
    // Synchronous: the answer is in the verified claims, so no promise either.
    (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>;
      return { id: auth.userId, email: auth.email, role: auth.role };
    },
  );

  app.post(
    '/api/v1/test/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['auth'],
        summary: 'Checks the access cookie and the CSRF token; answers the user',
        security: [{ cookieAuth: [] }],
        response: {
          200: { type: 'object', properties: { user: publicUserSchema }, required: ['user'] },
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>;
      const user = await ctx.services.users.findById(auth.userId);
      if (!user) throw new AppError('UNAUTHENTICATED', 'The user no longer exists.');
      return { user: toPublicUser(user) };
    },
  );
};
