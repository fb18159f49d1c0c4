import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { redactUrl } from '../../logger.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

interface RequestLike {
  id?: string;
  method?: string;
  url?: string;
  ip?: string;
  headers?: Record<string, unknown>;
}

/** The token is in the path, so this route's request log line blanks it out. */
function redactedRequest(req: RequestLike) {
  return {
    id: req.id,
    method: req.method,
    url: req.url === undefined ? undefined : redactUrl(req.url.replace(/(\/activate\/)[^/?#]*/, '$1[REDACTED]')),
    ip: req.ip,
    userAgent: req.headers?.['user-agent'],
  };
}

/** `GET /api/v1/activate/<token>/`: single-use account activation. */
export const activateRoutes: RouteModule = (app, ctx) => {
  app.get<{ Params: { token: string } }>(
    '/api/v1/activate/:token',
    {
      logSerializers: { req: redactedRequest },
      schema: {
        tags: ['accounts'],
        summary: 'Activate an account with the link from its activation mail',
        params: {
          type: 'object',
          properties: { token: { type: 'string', description: 'The token from the activation link.' } },
          required: ['token'],
        },
        response: {
          200: {
            type: 'object',
            properties: { message: { type: 'string' }, user: publicUserSchema },
            required: ['message', 'user'],
          },
          400: errorBodySchema,
          410: errorBodySchema,
        },
      },
    },
    async (request) => {
      const user = await ctx.services.accounts.activate(request.params.token);
      return { message: 'Account activated. You can log in now.', user: toPublicUser(user) };
    },
  );
};
