import { readFileSync } from 'node:fs';
import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH } from '../../accounts/registration-input.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

/** One answer for every address, known or not (no account enumeration). */
export const RESEND_ANSWER = 'If this address has an account waiting for activation, a new activation link is on its way.';
export const RESET_ANSWER = 'If this address has an account, a password-reset link is on its way.';

const acceptedSchema = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
} as const;

const emailBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email'],
  properties: { email: { type: 'string', maxLength: EMAIL_MAX_LENGTH } },
  examples: [{ email: 'ann@example.com' }],
} as const;

const errors = { 400: errorBodySchema, 415: errorBodySchema, 429: errorBodySchema };

/**
 * Unauthenticated account recovery: `POST /api/v1/activate/resend/`,
 * `POST /api/v1/password/reset/`, `POST /api/v1/password/reset/confirm/`,
 * and `GET /password/reset/` (the page the reset mail links to).
 */
export const accountRecoveryRoutes: RouteModule = (app, ctx) => {
  const { lifecycle } = ctx.services;

  app.post<{ Body: { email: string } }>(
    '/api/v1/activate/resend/',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Send a new activation link (the old one stops working); always 202, whether or not the address has an account',
        body: emailBody,
        response: { 202: { ...acceptedSchema, examples: [{ message: RESEND_ANSWER }] }, ...errors },
      },
    },
    async (request, reply) => {
      await lifecycle.recovery.requestActivationResend(request.body.email, request.ip);
      return reply.status(202).send({ message: RESEND_ANSWER });
    },
  );

  app.post<{ Body: { email: string } }>(
    '/api/v1/password/reset/',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Mail a single-use password-reset token (PASSWORD_RESET_TTL); always 202, whether or not the address has an account',
        body: emailBody,
        response: { 202: { ...acceptedSchema, examples: [{ message: RESET_ANSWER }] }, ...errors },
      },
    },
    async (request, reply) => {
      await lifecycle.recovery.requestPasswordReset(request.body.email, request.ip);
      return reply.status(202).send({ message: RESET_ANSWER });
    },
  );

  app.post<{ Body: { token: string; password: string } }>(
    '/api/v1/password/reset/confirm/',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Set a new password with the token from the reset mail; every session of the account ends',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['token', 'password'],
          properties: {
            token: { type: 'string', maxLength: 200, description: 'The token from the reset mail.' },
            password: { type: 'string', maxLength: PASSWORD_MAX_LENGTH, description: 'The new password (password policy: docs/accounts.md).' },
          },
          examples: [{ token: 'q7Vb0mYkR2tNw9xH1cJpLs4aD8eFgU3iKoZ5rT6yWvE', password: 'blue tractor autumn 1987' }],
        },
        response: {
          200: { type: 'object', properties: { message: { type: 'string' }, user: publicUserSchema }, required: ['message', 'user'] },
          410: errorBodySchema,
          ...errors,
        },
      },
    },
    async (request) => {
      const user = await lifecycle.recovery.confirmPasswordReset(request.body.token, request.body.password, request.ip);
      return { message: 'Password changed. Every session of the account has been signed out; log in with the new password.', user: toPublicUser(user) };
    },
  );

  const page = readFileSync(new URL('../static/password-reset.html', import.meta.url), 'utf8');
  app.get(
    '/password/reset/',
    {
      schema: {
        tags: ['accounts'],
        summary: 'The page the reset mail links to (token in the URL fragment, never sent to the server)',
        response: { 200: { type: 'string' } },
      },
    },
    async (_request, reply) => {
      void reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'")
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store');
      return page;
    },
  );
};
