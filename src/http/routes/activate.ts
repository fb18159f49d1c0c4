import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { redactUrl, serializeRequest, type RequestLike } from '../../logger.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

/** The token is in the path, so this route's request log line blanks it out. */
function redactedRequest(req: RequestLike) {
  return serializeRequest(req, (url) => redactUrl(url.replace(/(\/activate\/)[^/?#]*/, '$1[REDACTED]')));
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
