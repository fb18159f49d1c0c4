import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH } from '../../accounts/registration-input.js';
import type { Caller } from '../../accounts/lifecycle/index.js';
import { redactUrl, serializeRequest, type RequestLike } from '../../logger.js';
import { clearAuthCookies } from '../auth-cookies.js';
import { installAuth, requireCsrf } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import type { FastifyRequest } from 'fastify';

/** The token is in the path, so the confirm route's request log line blanks it out. */
function redactedRequest(req: RequestLike) {
  return serializeRequest(req, (url) => redactUrl(url.replace(/(\/email\/confirm\/)[^/?#]*/, '$1[REDACTED]')));
}

const messageSchema = { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } as const;
const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 415: errorBodySchema, 429: errorBodySchema };
const password = { type: 'string', maxLength: PASSWORD_MAX_LENGTH } as const;

export const EMAIL_CHANGE_ANSWER = 'If the new address can be used, a confirmation link is on its way to it; the account keeps its old address until the link is opened.';

function caller(request: FastifyRequest): Caller {
  const auth = request.auth as NonNullable<typeof request.auth>;
  return { userId: auth.userId, sessionId: auth.sessionId, ip: request.ip };
}

/**
 * Signed-in self-service (access token + CSRF for cookie writes):
 * `POST /api/v1/password/change/`, `POST /api/v1/email/change/`,
 * `DELETE /api/v1/me/`; and `GET /api/v1/email/confirm/<token>/`, the link
 * in the confirmation mail.
 */
export const accountSettingsRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const { lifecycle } = ctx.services;

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/api/v1/password/change/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['accounts'],
        summary: "Change the password; the user's other sessions end, this one stays",
        security: [{ cookieAuth: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['current_password', 'new_password'],
          properties: { current_password: password, new_password: password },
          examples: [{ current_password: 'old horse battery staple', new_password: 'blue tractor autumn 1987' }],
        },
        response: { 200: { type: 'object', properties: { message: { type: 'string' }, ended_sessions: { type: 'integer' } }, required: ['message', 'ended_sessions'] }, ...errors },
      },
    },
    async (request) => {
      const ended = await lifecycle.settings.changePassword(caller(request), request.body.current_password, request.body.new_password);
      return { message: 'Password changed; your other sessions have been signed out.', ended_sessions: ended };
    },
  );

  app.post<{ Body: { new_email: string; password: string } }>(
    '/api/v1/email/change/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['accounts'],
        summary: 'Ask to change the e-mail address: a confirmation link goes to the new address (EMAIL_CHANGE_TTL)',
        security: [{ cookieAuth: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['new_email', 'password'],
          properties: { new_email: { type: 'string', maxLength: EMAIL_MAX_LENGTH }, password },
          examples: [{ new_email: 'ann.new@example.com', password: 'blue tractor autumn 1987' }],
        },
        response: { 202: messageSchema, ...errors },
      },
    },
    async (request, reply) => {
      await lifecycle.settings.requestEmailChange(caller(request), request.body.new_email, request.body.password);
      return reply.status(202).send({ message: EMAIL_CHANGE_ANSWER });
    },
  );

  app.get<{ Params: { token: string } }>(
    '/api/v1/email/confirm/:token',
    {
      logSerializers: { req: redactedRequest },
      schema: {
        tags: ['accounts'],
        summary: 'Switch to the new e-mail address with the link from the confirmation mail; a notice goes to the old one',
        params: { type: 'object', properties: { token: { type: 'string', description: 'The token from the confirmation link.' } }, required: ['token'] },
        response: {
          200: { type: 'object', properties: { message: { type: 'string' }, user: publicUserSchema }, required: ['message', 'user'] },
          400: errorBodySchema,
          409: errorBodySchema,
          410: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = await lifecycle.settings.confirmEmailChange(request.params.token);
      return { message: 'E-mail address changed. Sign in with the new address from now on.', user: toPublicUser(user) };
    },
  );

  app.delete<{ Body: { password: string } }>(
    '/api/v1/me/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['accounts'],
        summary: 'Delete my account (password required): sessions, tokens and presence go; a tombstone keeps suppression lists honest',
        security: [{ cookieAuth: [] }],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['password'],
          properties: { password },
          examples: [{ password: 'blue tractor autumn 1987' }],
        },
        response: { 200: messageSchema, ...errors },
      },
    },
    async (request, reply) => {
      await lifecycle.settings.deleteAccount(caller(request), request.body.password);
      clearAuthCookies(reply, ctx.config);
      return { message: 'Account deleted. Every session has been signed out.' };
    },
  );
};
