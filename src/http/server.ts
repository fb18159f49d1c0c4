import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { installAuth } from './auth.js';
import { installErrorHandling, sendError } from './error-handler.js';
import { requestLoggerFactory } from './request-logger.js';
import { formRouteModules, routeModules } from './routes/index.js';
import { meFastPath } from './me-fast-path.js';
import { TriggerRouteTable, triggerGate } from './trigger-gate.js';
import { fastifyTrustProxy } from './trust-proxy.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_PARAM_LENGTH = 500;
/** Fastify's default keep-alive timeout, kept with our own server. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Where the server's listener leaves the request id for Fastify's genReqId. */
const REQUEST_ID_KEY = Symbol('curfew.requestId');
type TaggedRequest = IncomingMessage & { [REQUEST_ID_KEY]?: string };

/** Accept a caller's correlation id when it is well formed, else make one. */
function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A cron trigger route: wrong credentials are refused by the trigger gate before Fastify (trigger-gate.ts). */
    trigger?: boolean;
  }
}

/**
 * Builds the Fastify instance with every route registered; does not listen.
 * Unknown body fields and wrong types are rejected (no coercion, no silent
 * removal), trailing slashes are optional, and errors share one envelope.
 */
export async function buildHttpServer(ctx: HttpContext): Promise<FastifyInstance> {
  const { config } = ctx;
  const triggerRoutes = new TriggerRouteTable(MAX_PARAM_LENGTH);
  const gate = triggerGate({
    routes: triggerRoutes,
    guard: ctx.services.triggers,
    metrics: ctx.services.metrics,
    logger: ctx.logger,
    clientIp: config.trustProxy !== false ? undefined : (req) => req.socket.remoteAddress,
    ipAllowlisted: config.cron.ipAllowlist.length > 0,
  });
  // Reads the access cookie with the cookie plugin's own parser (registered below).
  const me = meFastPath(ctx, () => app.parseCookie);
  const app = Fastify({
    // Typed as Fastify's base logger so route modules see the default instance type.
    loggerInstance: ctx.logger as FastifyBaseLogger,
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: config.bodyLimit,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    genReqId: (req: TaggedRequest) => req[REQUEST_ID_KEY] ?? requestId(req),
    // Fastify's own HTTP/1 server with its timeouts. Its listener gives every
    // request its id and the x-request-id answer header (cheaper here than in
    // a hook), then lets the /me fast path answer and the trigger gate refuse
    // what they can from memory (disjoint paths), then hands the rest to Fastify.
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    serverFactory: (handler) => {
      const server = createServer((req: TaggedRequest, res) => {
        const id = requestId(req);
        // The early answers write their whole head at once, x-request-id included.
        try {
          if (me(req, res, id) || gate(req, res, id)) return;
        } catch (error) {
          // Never expected; but a throw here would reach no error handler, so
          // log it and let Fastify answer (or drop a half-answered socket).
          ctx.logger.error({ err: error, reqId: id }, 'early answer failed');
          if (res.headersSent) {
            res.destroy();
            return;
          }
        }
        req[REQUEST_ID_KEY] = id;
        res.setHeader('x-request-id', id);
        handler(req, res);
      });
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Errors raised before routing (a malformed percent-escape in the URL) get our envelope too.
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, 400, 'BAD_REQUEST', error.code === 'FST_ERR_BAD_URL' ? 'Malformed URL.' : 'Bad request.');
    },
  });

  installErrorHandling(app);
  app.addHook('onRoute', (route) => {
    if (route.config?.trigger !== true) return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) triggerRoutes.add({ method, url: route.url });
  });
  // Bodies are JSON or forms; Fastify's default text/plain parser would let a
  // plain string reach handlers that expect an object (415 instead).
  app.removeContentTypeParser('text/plain');

  await app.register(fastifyCookie);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'curfew', version: '0.1.0', description: 'Accounts, sessions and a hardened scheduler.' },
      components: {
        securitySchemes: {
          cookieAuth: { type: 'apiKey', in: 'cookie', name: config.cookies.accessName },
          cronBearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

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
