import type { preValidationAsyncHookHandler } from 'fastify';
import type { RouteModule } from '../context.js';
import { adminCheck, installAuth } from '../auth.js';
import { guardedRequest, sendRefusal } from '../trigger-hooks.js';
import { errorBodySchema } from '../error-handler.js';
import { iso, jobStatusBody, jobStatusSchema, tokenQuery } from './cron-schemas.js';

/** `Bearer <header>.<payload>.<signature>`: an access token, not a cron secret. */
const JWT_BEARER = /^Bearer\s+[\w-]+\.[\w-]+\.[\w-]+$/i;

const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

/**
 * `GET /cron/status`: every job's schedule, next slot, last run, last
 * success, lateness, failure streak and lease holder. Callers present a
 * cron credential (not throttled: it only reads) or an admin session
 * (access cookie or access-token Bearer).
 */
export const cronStatusRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const admin = adminCheck(ctx);
  const access: preValidationAsyncHookHandler = async (request, reply) => {
    const decision = await ctx.services.triggers.admit(guardedRequest(request), { throttled: false });
    if (decision.ok) return;
    // Not a cron credential: it may be an admin's access cookie or access-token (JWT) Bearer.
    const maybeSession =
      request.cookies[ctx.config.cookies.accessName] !== undefined || JWT_BEARER.test(request.headers.authorization ?? '');
    if (maybeSession && (decision.code === 'CRON_UNAUTHORIZED' || decision.code === 'CRON_NOT_CONFIGURED')) {
      return admin(request);
    }
    return sendRefusal(ctx.services, reply, decision);
  };

  app.get(
    '/cron/status',
    {
      preValidation: access,
      schema: {
        tags: ['triggers'],
        summary: 'Per-job schedule, next slot, last run, lateness and lease holder',
        security: [{ cronBearer: [] }, { cookieAuth: [] }],
        querystring: { type: 'object', properties: tokenQuery, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              now: { type: 'string', format: 'date-time' },
              jobs: { type: 'array', items: jobStatusSchema },
              // Seed 002's "queue backlog": sequence steps due and not yet sent.
              backlog: { type: 'object', properties: { due: { type: 'integer' }, oldest_due_at: isoOrNull }, required: ['due', 'oldest_due_at'] },
              // Deliveries an operator must resolve (docs/sequences.md).
              unknown_sends: { type: 'object', properties: { sequence: { type: 'integer' }, outbox: { type: 'integer' } }, required: ['sequence', 'outbox'] },
            },
            required: ['ok', 'now', 'jobs', 'backlog', 'unknown_sends'],
          },
          401: errorBodySchema,
          403: errorBodySchema,
          503: errorBodySchema,
        },
      },
    },
    async () => {
      const { sequences, mail } = ctx.services;
      const [statuses, backlog, sends, outboxUnknown] = await Promise.all([ctx.services.jobs.status(), sequences.backlog(), sequences.sendCounts(), mail.unknown.count()]);
      return {
        ok: true,
        now: new Date(ctx.clock.now()).toISOString(),
        jobs: statuses.map(jobStatusBody),
        backlog: { due: backlog.due, oldest_due_at: iso(backlog.oldestDueAt) },
        unknown_sends: { sequence: sends.unknown, outbox: outboxUnknown },
      };
    },
  );
};
