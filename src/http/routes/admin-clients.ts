import type { ServiceClient } from '../../clients/service-clients.js';
import { installAuth, requireAdmin } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

const clientSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    created_at: { type: 'string' },
    revoked_at: { type: ['string', 'null'] },
    last_used_at: { type: ['string', 'null'] },
  },
  required: ['name', 'created_at', 'revoked_at', 'last_used_at'],
} as const;

const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } },
  required: ['name'],
  additionalProperties: false,
} as const;

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toBody(client: ServiceClient) {
  return { name: client.name, created_at: new Date(client.createdAt).toISOString(), revoked_at: iso(client.revokedAt), last_used_at: iso(client.lastUsedAt) };
}

/**
 * Service clients for token introspection (role `admin`, CSRF on unsafe
 * methods): list, create (the secret is in the answer once), revoke.
 */
export const adminClientRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const clients = () => ctx.services.clients;

  app.get(
    '/api/v1/admin/clients/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Service clients (introspection callers)',
        security: [{ cookieAuth: [] }],
        response: { 200: { type: 'object', properties: { clients: { type: 'array', items: clientSchema } }, required: ['clients'] }, ...errors },
      },
    },
    async () => ({ clients: (await clients().list()).map(toBody) }),
  );

  app.post<{ Body: { name: string } }>(
    '/api/v1/admin/clients/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Create a service client; the secret is shown only in this answer',
        security: [{ cookieAuth: [] }],
        body: { type: 'object', properties: { name: nameParams.properties.name }, required: ['name'], additionalProperties: false, examples: [{ name: 'billing-service' }] },
        response: {
          201: { type: 'object', properties: { client: clientSchema, secret: { type: 'string' } }, required: ['client', 'secret'] },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { client, secret } = await clients().create(request.body.name);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ client: toBody(client), secret });
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/v1/admin/clients/:name',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Revoke a service client',
        security: [{ cookieAuth: [] }],
        params: nameParams,
        response: { 200: { type: 'object', properties: { revoked: { type: 'string' } }, required: ['revoked'] }, ...errors },
      },
    },
    async (request) => {
      await clients().revoke(request.params.name);
      return { revoked: request.params.name };
    },
  );
};
