import type { RouteModule } from '../context.js';
import { errorBodySchema, sendError } from '../error-handler.js';

/**
 * `GET /health`: the process answers. `GET /ready`: the database answers too;
 * it also reports the bus (`off`, `connected`, `connecting`, `disconnected`)
 * without failing on it: logins never depend on the bus, so an instance
 * without it must stay in the load balancer (events wait in the outbox).
 */
export const healthRoutes: RouteModule = (app, ctx) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database is reachable',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, bus: { type: 'string' } }, required: ['status', 'bus'] },
          503: errorBodySchema,
        },
      },
    },
    async (_request, reply) => {
      if (await ctx.services.storage.ping()) return { status: 'ready', bus: ctx.services.bus.state() };
      return sendError(reply, 503, 'SERVICE_UNAVAILABLE', 'The database is not reachable.');
    },
  );
};
