import type { FastifyError, FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { safeEqual } from '../tokens/secrets.js';

/** The operations routes: metrics and the API description (the OpenAPI document and Swagger UI). */
function isOpsRoute(url: string | undefined): boolean {
  return url === '/metrics' || url === '/openapi.json' || url === '/docs' || (url?.startsWith('/docs/') ?? false);
}

/**
 * In production, /metrics, /openapi.json and /docs need `Authorization:
 * Bearer <METRICS_TOKEN>`; without METRICS_TOKEN they answer 403 (issue 16
 * #13: they were open to anyone). Development and test keep them open
 * unless METRICS_TOKEN is set (then /metrics checks it itself). Logs which
 * of the two at start-up.
 */
export function installOpsGuard(app: FastifyInstance, config: Config, logger: Logger): void {
  if (config.env !== 'production') return;
  const token = config.metricsToken;
  if (token === undefined) {
    logger.warn('production: /metrics, /openapi.json and /docs are closed (403); set METRICS_TOKEN to open them to a bearer');
  } else {
    logger.info('production: /metrics, /openapi.json and /docs need Authorization: Bearer <METRICS_TOKEN>');
  }
  app.addHook('onRequest', function guardOpsRoutes(this: FastifyInstance, request, _reply, done) {
    if (!isOpsRoute(request.routeOptions.url)) {
      done();
      return;
    }
    if (token === undefined) {
      done(new AppError('FORBIDDEN', 'Closed in production; set METRICS_TOKEN and send it as a bearer.') as unknown as FastifyError);
      return;
    }
    const given = /^Bearer[ \t]+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!safeEqual(given, token)) {
      done(
        new AppError('UNAUTHENTICATED', 'This needs Authorization: Bearer <METRICS_TOKEN>.', {
          headers: { 'www-authenticate': 'Bearer realm="operations"' },
        }) as unknown as FastifyError,
      );
      return;
    }
    done();
  });
}
