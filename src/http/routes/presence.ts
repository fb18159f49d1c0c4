import { AppError } from '../../errors.js';
import { installAuth, requireAdmin, requireUser } from '../auth.js';
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

/** `?limit=&after=`, shared by the user and admin lists. */
const pagingQuery = {
  type: 'object',
  properties: {
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: `page size, 1..${MAX_LIMIT} (default 100)` },
    after: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'user id cursor from the previous page' },
  },
  additionalProperties: false,
} as const;

/** The page size and cursor; a limit outside 1..MAX_LIMIT is 400 VALIDATION_FAILED. */
function paging(query: { limit?: string; after?: string }): { limit: number; after: number } {
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (limit < 1 || limit > MAX_LIMIT) throw new AppError('VALIDATION_FAILED', `limit must be between 1 and ${MAX_LIMIT}.`);
  return { limit, after: query.after === undefined ? 0 : Number(query.after) };
}

const onlineAccountSchema = {
  type: 'object',
  properties: {
    user_id: { type: 'integer' },
    email: { type: 'string' },
    connections: { type: 'integer', description: 'open connections on every instance' },
    last_seen_at: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['user_id', 'email', 'connections', 'last_seen_at'],
} as const;

/**
 * `GET /api/v1/admin/presence/?limit=&after=`: the same list for admins,
 * with each user's e-mail (one join), whatever PRESENCE_VISIBILITY says.
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
        querystring: pagingQuery,
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
      const { limit, after } = paging(request.query);
      const auth = request.auth as NonNullable<typeof request.auth>;
      return presence.listVisible({ userId: auth.userId, role: auth.role }, after, limit);
    },
  );

  app.get<{ Querystring: { limit?: string; after?: string } }>(
    '/api/v1/admin/presence/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['presence'],
        summary: 'Online users with their e-mail (admin), paginated like /api/v1/presence/',
        security: [{ cookieAuth: [] }],
        querystring: pagingQuery,
        response: {
          200: {
            type: 'object',
            properties: { users: { type: 'array', items: onlineAccountSchema }, next: { type: ['integer', 'null'] } },
            required: ['users', 'next'],
            examples: [{ users: [{ user_id: 7, email: 'ada@example.com', connections: 2, last_seen_at: '2026-11-30T18:02:11.000Z' }], next: null }],
          },
          400: errorBodySchema,
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const { limit, after } = paging(request.query);
      const page = await presence.listOnlineAccounts(after, limit);
      return {
        users: page.users.map((user) => ({ user_id: user.userId, email: user.email, connections: user.connections, last_seen_at: user.lastSeenAt })),
        next: page.next,
      };
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
