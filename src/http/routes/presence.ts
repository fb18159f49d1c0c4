import { AppError } from '../../errors.js';
import { installAuth, requireUser } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

const statusSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    online: { type: 'boolean' },
    last_seen_at: { type: ['string', 'null'], format: 'date-time' },
    active_connections: { type: 'integer' },
  },
  required: ['id', 'online', 'last_seen_at', 'active_connections'],
} as const;

const MAX_LIMIT = 500;

/**
 * `GET /api/v1/presence/?limit=&after=`: online users by ascending id,
 * keyset-paginated (`next` is the `after` of the following page).
 * `GET /api/v1/users/<id>/presence/`: one user's status. Both need an access
 * token, and show only whom PRESENCE_VISIBILITY lets the caller see (by
 * default themself, or everyone for an admin); a user the caller may not
 * see answers 404 like a missing one, so ids do not leak.
 */
export const presenceRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const presence = ctx.services.presence;

  app.get<{ Querystring: { limit?: string; after?: string } }>(
    '/api/v1/presence/',
    {
      preHandler: requireUser(ctx),
      schema: {
        tags: ['presence'],
        summary: 'Online users, paginated',
        security: [{ cookieAuth: [] }],
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: `page size, 1..${MAX_LIMIT} (default 100)` },
            after: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'user id cursor from the previous page' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { results: { type: 'array', items: statusSchema }, next: { type: ['integer', 'null'] } },
            required: ['results', 'next'],
          },
          400: errorBodySchema,
          401: errorBodySchema,
        },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (limit < 1 || limit > MAX_LIMIT) throw new AppError('VALIDATION_FAILED', `limit must be between 1 and ${MAX_LIMIT}.`);
      const after = request.query.after === undefined ? 0 : Number(request.query.after);
      const auth = request.auth as NonNullable<typeof request.auth>;
      return presence.listVisible({ userId: auth.userId, role: auth.role }, after, limit);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/users/:id/presence/',
    {
      preHandler: requireUser(ctx),
      schema: {
        tags: ['presence'],
        summary: "One user's presence",
        security: [{ cookieAuth: [] }],
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } }, required: ['id'], additionalProperties: false },
        response: { 200: statusSchema, 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request) => {
      const id = Number(request.params.id);
      const auth = request.auth as NonNullable<typeof request.auth>;
      if (!presence.canSee({ userId: auth.userId, role: auth.role }, id)) throw new AppError('USER_NOT_FOUND', 'No such user.');
      const user = await ctx.services.users.findById(id);
      if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
      return presence.status(id);
    },
  );
};
