import { safeEqual } from '../../tokens/secrets.js';
import { AppError } from '../../errors.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

/**
 * `GET /metrics`: Prometheus exposition of this instance's registry. Open
 * unless METRICS_TOKEN is set, then `Authorization: Bearer <token>` is required.
 */
export const metricsRoutes: RouteModule = (app, ctx) => {
  const token = ctx.config.metricsToken;
  app.get(
    '/metrics',
    {
      exposeHeadRoute: false,
      preValidation: async (request) => {
        if (token === undefined) return;
        const given = /^Bearer[ \t]+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
        if (!safeEqual(given, token)) {
          throw new AppError('UNAUTHENTICATED', 'Metrics need Authorization: Bearer <METRICS_TOKEN>.', {
            headers: { 'www-authenticate': 'Bearer realm="metrics"' },
          });
        }
      },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (curfew_*)',
        response: { 200: { type: 'string', description: 'Prometheus text exposition format' }, 401: errorBodySchema },
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await ctx.services.metrics.render();
      return reply.type(contentType).send(body);
    },
  );
};
