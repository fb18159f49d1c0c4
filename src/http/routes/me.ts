import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { AppError } from '../../errors.js';
import { installAuth, requireCsrf, requireUser } from '../auth.js';
import type { RouteModule } from '../context.js';
import { JSON_CONTENT_TYPE } from '../error-answer.js';
import { errorBodySchema } from '../error-handler.js';
import type { AccessClaims } from '../../tokens/access-tokens.js';

const claimsUserSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, email: { type: 'string' }, role: { type: 'string', enum: ['user', 'admin'] } },
  required: ['id', 'email', 'role'],
} as const;

/** The /me answer, serialised, and its Content-Length. */
export interface MeBody {
  readonly text: string;
  readonly length: string;
}

const meBodies = new WeakMap<AccessClaims, MeBody>();

/**
 * The /me body, `{"id","email","role"}` from the verified claims, serialised
 * once per token. The one source of the body for the route below and the
 * early answer (early-answers.ts), so the two are the same bytes.
 */
export function meBody(claims: AccessClaims): MeBody {
  let body = meBodies.get(claims);
  if (body === undefined) {
    const text = JSON.stringify({ id: claims.userId, email: claims.email, role: claims.role });
    body = { text, length: String(Buffer.byteLength(text)) };
    meBodies.set(claims, body);
  }
  return body;
}

/**
 * `GET /api/v1/me/`: the caller from the access token's claims (no query).
 * `POST /api/v1/test/`: the seed's CSRF-protected test endpoint; answers the user.
 */
export const meRoutes: RouteModule = (app, ctx) => {
  installAuth(app);

  app.get(
    '/api/v1/me/',
    {
      preHandler: requireUser(ctx),
      schema: {
        tags: ['auth'],
        summary: 'The current user, from the access token',
        security: [{ cookieAuth: [] }],
        response: { 200: claimsUserSchema, 401: errorBodySchema },
      },
    },
    // Synchronous: the answer is in the verified claims, so no promise either.
    // A serialised string with a JSON type is sent as it is (the schema documents it).
    (request, reply) => reply.type(JSON_CONTENT_TYPE).send(meBody(request.auth as NonNullable<typeof request.auth>).text),
  );

  app.post(
    '/api/v1/test/',
    {
      preHandler: requireCsrf(ctx),
      schema: {
        tags: ['auth'],
        summary: 'Checks the access cookie and the CSRF token; answers the user',
        security: [{ cookieAuth: [] }],
        response: {
          200: { type: 'object', properties: { user: publicUserSchema }, required: ['user'] },
          401: errorBodySchema,
          403: errorBodySchema,
        },
      },
    },
    async (request) => {
      const auth = request.auth as NonNullable<typeof request.auth>;
      const user = await ctx.services.users.findById(auth.userId);
      if (!user) throw new AppError('UNAUTHENTICATED', 'The user no longer exists.');
      return { user: toPublicUser(user) };
    },
  );
};
