import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PROFILE_TYPES, SEXES } from '../../accounts/registration-input.js';
import { AppError } from '../../errors.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import { refuseForeignOrigin } from '../origin-check.js';

interface RegisterBody {
  email: string;
  password: string;
  profile: string | Record<string, unknown>;
}

const profileDescription =
  'An object, or its JSON text (form posts). Fields: `type` (required: ' +
  `${PROFILE_TYPES.join(' | ')}), \`first_name\`, \`last_name\` (1–150 characters), ` +
  '`birth_date` (ISO-8601 date or date-time; stored as YYYY-MM-DD), ' +
  `\`sex\` (${SEXES.join(' | ')}). Other fields are refused.`;

const ACCEPTED_TYPES = /^(application\/json|application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i;

/** `POST /api/v1/register/`: JSON, urlencoded or multipart form. */
export const registerRoutes: RouteModule = (app, ctx) => {
  app.post<{ Body: RegisterBody }>(
    '/api/v1/register',
    {
      // Login CSRF: a cross-site form must not create accounts in a victim's browser (issue 16 #10).
      onRequest: refuseForeignOrigin(ctx.config.allowedOrigins),
      // Fastify parses text/plain by default; a form or JSON is all this route takes.
      preValidation: async (request) => {
        const type = request.headers['content-type'];
        if (type !== undefined && !ACCEPTED_TYPES.test(type)) {
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send JSON, a urlencoded form or a multipart form.');
        }
      },
      schema: {
        tags: ['accounts'],
        summary: 'Register an inactive account and queue its activation mail',
        consumes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email', 'password', 'profile'],
          properties: {
            email: { type: 'string', maxLength: EMAIL_MAX_LENGTH },
            password: { type: 'string', minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH },
            // Object or JSON text; left untyped here so the account code gives one clear message for both.
            profile: { description: profileDescription },
          },
          // JSON text for profile: the one form that works for all three content types (Swagger's "Try it out" too).
          examples: [{ email: 'ada@example.com', password: 'lantern-quietly-ferry-47', profile: '{"type":"worker","first_name":"Ada","last_name":"Lovelace"}' }],
        },
        response: {
          201: {
            type: 'object',
            properties: { message: { type: 'string' }, user: publicUserSchema },
            required: ['message', 'user'],
          },
          400: errorBodySchema,
          409: errorBodySchema,
          413: errorBodySchema,
          415: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const user = await ctx.services.accounts.register(request.body);
      return reply.status(201).send({
        message: 'Registered. Follow the link in the activation e-mail to activate the account.',
        user: toPublicUser(user),
      });
    },
  );
};
