import { createServer } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AccessLog, AccessLogController } from './access-log.js';
import { clientIpResolver } from './client-ip.js';
import type { HttpContext } from './context.js';
import { installAuth } from './auth.js';
import { fastifyRequestId, frontDoor } from './early-answers.js';
import { installErrorHandling, sendError } from './error-handler.js';
import { requestLoggerFactory } from './request-logger.js';
import { formRouteModules, routeModules } from './routes/index.js';
import { openapiOptions } from './openapi.js';
import { securityHeaders } from './security-headers.js';
import { TriggerRouteTable } from './trigger-routes.js';
import { installInputGuard } from './input-guard.js';
import { installOpsGuard } from './ops-guard.js';
import { ConnectionDrain } from './shutdown.js';
import { clientErrorHandler, serverTimeouts } from './timeouts.js';
import { guardUpgrades } from './upgrade-guard.js';
import { fastifyTrustProxy } from './trust-proxy.js';

const MAX_PARAM_LENGTH = 500;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A cron trigger route: what the trigger check refuses from the head alone is refused by the early answers (early-answers.ts). */
    trigger?: boolean;
  }
}

/**
 * Builds the Fastify instance with every route registered; does not listen.
 * Unknown body fields and wrong types are rejected (no coercion, no silent
 * removal), trailing slashes are optional, and errors share one envelope.
 */
export async function buildHttpServer(ctx: HttpContext, drain: ConnectionDrain = new ConnectionDrain()): Promise<FastifyInstance> {
  const { config } = ctx;
  const triggerRoutes = new TriggerRouteTable(MAX_PARAM_LENGTH);
  // One trust setting for Fastify's request.ip and the early answers' client address.
  const trustProxy = fastifyTrustProxy(config.trustProxy);
  const accessLog = new AccessLog(ctx.logger);
  const early = {
    ctx,
    // Reads the access cookie with the cookie plugin's own parser (registered below).
    parseCookie: () => app.parseCookie,
    triggerRoutes,
    clientIp: clientIpResolver(trustProxy),
    accessLog,
    securityHead: securityHeaders({ hsts: config.cookies.secure }),
    draining: () => drain.draining,
  };
  const app = Fastify({
    // Typed as Fastify's base logger so route modules see the default instance type.
    loggerInstance: ctx.logger as FastifyBaseLogger,
    childLoggerFactory: requestLoggerFactory,
    // One access line per request, written by the AccessLog (here and in the early answers).
    logController: new AccessLogController(accessLog),
    bodyLimit: config.bodyLimit,
    trustProxy,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    genReqId: fastifyRequestId,
    // Our own HTTP/1 server with the HTTP_* timeouts (timeouts.ts); its
    // listener is the front door (early-answers.ts): request id and security
    // headers for every request, the few early answers, the rest to Fastify
    // unchanged. Node's refusals (bad HTTP, timeouts) in our envelope;
    // draining answers 503 in ours (shutdown.ts).
    clientErrorHandler,
    return503OnClosing: false,
    serverFactory: (handler) => {
      const server = createServer(serverTimeouts(config.http), frontDoor(early, handler));
      drain.attach(server);
      return server;
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Errors raised before routing (a malformed percent-escape in the URL) get our envelope too.
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, 400, 'BAD_REQUEST', error.code === 'FST_ERR_BAD_URL' ? 'Malformed URL.' : 'Bad request.');
    },
  });

  installErrorHandling(app);
  drain.install(app);
  installOpsGuard(app, config, ctx.logger);
  installInputGuard(app);
  guardUpgrades(app);
  app.addHook('onRoute', (route) => {
    if (route.config?.trigger !== true) return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) triggerRoutes.add({ method, url: route.url });
  });
  // Bodies are JSON or forms; Fastify's default text/plain parser would let a
  // plain string reach handlers that expect an object (415 instead).
  app.removeContentTypeParser('text/plain');

  await app.register(fastifyCookie);

  await app.register(fastifySwagger, openapiOptions(config));
  // persistAuthorization: the X-CSRFToken and Bearer values survive a reload of /docs.
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true } });

  // `request.auth` on the root, so every scope below shares one decorator.
  installAuth(app);
  // Form bodies only where a route takes them: the multipart plugin adds an
  // async hook to every request of the scope it is registered in.
  await app.register(async (forms) => {
    await forms.register(fastifyFormbody, { bodyLimit: config.bodyLimit });
    await forms.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fieldSize: config.bodyLimit, fields: 50, files: 0, parts: 50, fileSize: 0 },
    });
    for (const register of formRouteModules) await register(forms, ctx);
  });
  for (const register of routeModules) {
    await register(app, ctx);
  }

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
