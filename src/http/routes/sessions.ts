import type { LiveSession } from '../../sessions/session-control.js';
import { installAuth, requireCsrf, requireUser } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

/** One session as the API shows it (times are ISO 8601). */
export const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    user_agent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    created_at: { type: 'string' },
    last_seen_at: { type: 'string' },
    idle_expires_at: { type: 'string' },
    absolute_expires_at: { type: 'string' },
    current: { type: 'boolean' },
  },
  required: ['id', 'user_agent', 'ip', 'created_at', 'last_seen_at', 'idle_expires_at', 'absolute_expires_at', 'current'],
} as const;

export const sessionListSchema = {
  type: 'object',
  properties: { sessions: { type: 'array', items: sessionSchema } },
  required: ['sessions'],
} as const;

/** Session id path parameter: the 24-character base64url ids SessionService makes (shorter/longer ones are 400). */
export const sessionIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  required: ['id'],
  additionalProperties: false,
} as const;

/** The API form of a live session; `current` marks the caller's own. */
export function toSessionBody(session: LiveSession, currentId: string | undefined) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: session.id,
    user_agent: session.userAgent,
    ip: session.ip,
    created_at: iso(session.createdAt),
    last_seen_at: iso(session.lastSeenAt),
    idle_expires_at: iso(session.idleExpiresAt),
    absolute_expires_at: iso(session.absoluteExpiresAt),
    current: session.id === currentId,
  };
}

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema };

/**
 * The caller's own sessions: `GET /api/v1/sessions/`, `DELETE
 * /api/v1/sessions/<id>/` (others' ids answer 404) and `POST
 * /api/v1/sessions/revoke-others/` (keeps the current one). Unsafe methods need CSRF.
 */
export const sessionRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const control = () => ctx.services.maintenance.sessions;

  app.get(
    '/api/v1/sessions/',
    {
      preHandler: requireUser(ctx),
      schema: {
        tags: ['sessions'],
        summary: "The caller's live sessions, newest first; `current` marks the one making the request",
        security: [{ cookieAuth: [] }],
        response: { 200: sessionListSchema, ...errors },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>;
      const sessions = await control().listLive(auth.userId);
      return { sessions: sessions.map((session) => toSessionBody(session, auth.sessionId)) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/sessions/:id/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['sessions'],
        summary: "Revoke one of the caller's sessions (its access tokens are refused on every instance within seconds)",
        security: [{ cookieAuth: [] }],
        params: sessionIdParams,
        response: { 200: { type: 'object', properties: { revoked: { type: 'string' } }, required: ['revoked'] }, ...errors },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>;
      await control().revokeOwn(auth.userId, request.params.id);
      return { revoked: request.params.id };
    },
  );

  app.post(
    '/api/v1/sessions/revoke-others/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['sessions'],
        summary: "Revoke every session of the caller except the current one",
        security: [{ cookieAuth: [] }],
        response: { 200: { type: 'object', properties: { revoked: { type: 'integer' } }, required: ['revoked'] }, ...errors },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>;
      return { revoked: await control().revokeOthers(auth.userId, auth.sessionId) };
    },
  );
};
