import { AppError } from '../../errors.js';
import { installAuth, requireAdmin } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import { sessionIdParams, sessionListSchema, toSessionBody } from './sessions.js';

const userIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } },
  required: ['id'],
  additionalProperties: false,
} as const;

const sweepSchema = {
  type: ['object', 'null'],
  properties: {
    job: { type: 'string' },
    started_at: { type: 'string' },
    finished_at: { type: 'string' },
    duration_ms: { type: 'integer' },
    rows: { type: 'integer' },
    status: { type: 'string' },
  },
} as const;

const healthSchema = {
  type: 'object',
  properties: {
    tables: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          table: { type: 'string' },
          rows: { type: 'integer' },
          expired: { type: 'integer' },
          expired_share: { type: 'number' },
          oldest_expired_at: { type: ['string', 'null'] },
          last_sweep: sweepSchema,
        },
        required: ['table', 'rows', 'expired', 'expired_share', 'oldest_expired_at', 'last_sweep'],
      },
    },
  },
  required: ['tables'],
} as const;

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema };
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Admin routes (role `admin`, CSRF on unsafe methods): a user's sessions,
 * revoking one of them, logging a user out everywhere, and the auth tables' health.
 */
export const adminRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const control = () => ctx.services.maintenance.sessions;

  const userOr404 = async (id: string): Promise<number> => {
    const user = await ctx.services.users.findById(Number(id));
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    return Number(user.id);
  };

  app.get<{ Params: { id: string } }>(
    '/api/v1/admin/users/:id/sessions/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: "A user's live sessions",
        security: [{ cookieAuth: [] }],
        params: userIdParams,
        response: { 200: sessionListSchema, ...errors },
      },
    },
    async (request) => {
      const userId = await userOr404(request.params.id);
      const current = request.auth?.sessionId;
      return { sessions: (await control().listLive(userId)).map((session) => toSessionBody(session, current)) };
    },
  );

  app.delete<{ Params: { id: string; sid: string } }>(
    '/api/v1/admin/users/:id/sessions/:sid/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: "Revoke one of a user's sessions (its access tokens are refused on every instance within seconds, as after a self-revoke)",
        security: [{ cookieAuth: [] }],
        params: {
          type: 'object',
          properties: { ...userIdParams.properties, sid: sessionIdParams.properties.id },
          required: ['id', 'sid'],
          additionalProperties: false,
        },
        response: { 204: { type: 'null', description: 'Revoked.' }, ...errors },
      },
    },
    async (request, reply) => {
      const userId = await userOr404(request.params.id);
      await control().revokeForUser(userId, request.params.sid);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/admin/users/:id/logout/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Log a user out everywhere (a per-user not-before mark; every instance refuses the tokens within seconds)',
        security: [{ cookieAuth: [] }],
        params: userIdParams,
        response: { 200: { type: 'object', properties: { revoked: { type: 'integer' } }, required: ['revoked'] }, ...errors },
      },
    },
    async (request) => {
      const userId = await userOr404(request.params.id);
      return { revoked: await control().logoutUser(userId) };
    },
  );

  app.get(
    '/api/v1/admin/auth-health/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Auth tables: row counts, expired share, oldest expired row, last sweep and its duration',
        security: [{ cookieAuth: [] }],
        response: { 200: healthSchema, ...errors },
      },
    },
    async () => {
      const tables = await control().health();
      return {
        tables: tables.map((t) => ({
          table: t.table,
          rows: t.rows,
          expired: t.expired,
          expired_share: t.expiredShare,
          oldest_expired_at: t.oldestExpiredAt === null ? null : iso(t.oldestExpiredAt),
          last_sweep:
            t.lastSweep === null
              ? null
              : { ...t.lastSweep, started_at: iso(t.lastSweep.started_at), finished_at: iso(t.lastSweep.finished_at) },
        })),
      };
    },
  );
};
