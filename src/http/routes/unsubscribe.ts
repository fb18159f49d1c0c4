import { AppError } from '../../errors.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

const params = {
  type: 'object',
  properties: { token: { type: 'string', minLength: 3, maxLength: 64 } },
  required: ['token'],
  additionalProperties: false,
} as const;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.5rem 1rem}</style>
</head><body>${body}</body></html>
`;
}

/**
 * RFC 8058 one-click unsubscribe. `POST /api/v1/unsubscribe/<token>/`
 * unsubscribes (no session, no CSRF: the signed token is the credential) and
 * answers 200. `GET` shows a confirm button and changes nothing, because
 * link scanners and mail previews fetch GET links on their own. Registered
 * with the form parsers: providers post `List-Unsubscribe=One-Click` as a form.
 */
export const unsubscribeRoutes: RouteModule = (app, ctx) => {
  app.get<{ Params: { token: string } }>(
    '/api/v1/unsubscribe/:token/',
    {
      schema: {
        tags: ['sequences'],
        summary: 'Unsubscribe confirm page (changes nothing)',
        params,
        response: { 200: { type: 'string' }, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      if (!(await ctx.services.sequences.checkUnsubscribe(request.params.token))) {
        throw new AppError('UNSUBSCRIBE_INVALID', 'This unsubscribe link is invalid.');
      }
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      return reply
        .type('text/html; charset=utf-8')
        .send(page('Unsubscribe', '<h1>Unsubscribe</h1><p>Stop receiving these e-mails? Account e-mails (like password resets) still arrive.</p><form method="post"><button type="submit">Unsubscribe</button></form>'));
    },
  );

  app.post<{ Params: { token: string } }>(
    '/api/v1/unsubscribe/:token/',
    {
      schema: {
        tags: ['sequences'],
        summary: 'One-click unsubscribe (RFC 8058); the signed token is the credential',
        params,
        response: { 200: { type: 'string' }, 400: errorBodySchema, 404: errorBodySchema },
      },
    },
    async (request, reply) => {
      await ctx.services.sequences.unsubscribe(request.params.token);
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      return reply.type('text/html; charset=utf-8').send(page('Unsubscribed', '<h1>You are unsubscribed</h1><p>You will get no further e-mails of this kind.</p>'));
    },
  );
};
