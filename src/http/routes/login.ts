import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { isAppError } from '../../errors.js';
import { installAuth, requireCsrf } from '../auth.js';
import { clearAuthCookies, setAuthCookies } from '../auth-cookies.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import { refuseForeignOrigin } from '../origin-check.js';

const loginBody = {
  type: 'object',
  properties: {
    email: { type: 'string', minLength: 1, maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
  required: ['email', 'password'],
  additionalProperties: false,
  examples: [{ email: 'ada@example.com', password: 'lantern-quietly-ferry-47' }],
} as const;

const sessionResponse = {
  type: 'object',
  properties: { user: publicUserSchema, session_id: { type: 'string' } },
  required: ['user', 'session_id'],
} as const;

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 415: errorBodySchema, 429: errorBodySchema };

/**
 * `POST /api/v1/login/` (JSON, urlencoded or multipart form), `POST
 * /api/v1/login/refresh/` (refresh cookie) and `POST /api/v1/logout/` (access
 * cookie + CSRF). Login and refresh set the three auth cookies; logout clears them.
 */
export const loginRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const { auth } = ctx.services;

  app.post<{ Body: { email: string; password: string } }>(
    '/api/v1/login/',
    {
      // Login CSRF: a cross-site form must not sign the victim in to the attacker's account (issue 16 #10).
      onRequest: refuseForeignOrigin(ctx.config.allowedOrigins),
      schema: {
        tags: ['auth'],
        summary: 'Log in: opens a session and sets the access, refresh and CSRF cookies',
        body: loginBody,
        response: { 200: sessionResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      const result = await auth.service.login(email, password, { ip: request.ip, userAgent: request.headers['user-agent'] });
      setAuthCookies(reply, ctx.config, ctx.clock, result.tokens);
      return { user: toPublicUser(result.user), session_id: result.tokens.sessionId };
    },
  );

  app.post(
    '/api/v1/login/refresh/',
    {
      schema: {
        tags: ['auth'],
        summary: 'Rotate the refresh token and issue a new access token',
        response: { 200: sessionResponse, ...errors },
      },
    },
    async (request, reply) => {
      const token = request.cookies[ctx.config.cookies.refreshName];
      if (!token) {
        return reply.status(401).send({ error: { code: 'UNAUTHENTICATED', message: 'The refresh token cookie is missing.' } });
      }
      try {
        const result = await auth.service.refresh(token);
        setAuthCookies(reply, ctx.config, ctx.clock, result.tokens);
        return { user: toPublicUser(result.user), session_id: result.tokens.sessionId };
      } catch (error) {
        // A dead refresh token is useless to the browser: drop every auth cookie with the 401.
        if (isAppError(error) && error.status === 401) clearAuthCookies(reply, ctx.config);
        throw error;
      }
    },
  );

  app.post(
    '/api/v1/logout/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['auth'],
        summary: 'Revoke the session and its refresh tokens and clear the cookies',
        security: [{ cookieAuth: [] }],
        response: {
          200: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      await auth.service.logout((request.auth as NonNullable<typeof request.auth>).sessionId);
      clearAuthCookies(reply, ctx.config);
      return { message: 'Logged out.' };
    },
  );
};
