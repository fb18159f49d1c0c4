import { publicUserSchema, toPublicUser } from '../../accounts/public-user.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../accounts/lifecycle/admin.js';
import type { UserRow } from '../../db/repositories/users.js';
import { EMAIL_MAX_LENGTH } from '../../accounts/registration-input.js';
import { installAuth, requireAdmin } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** The user as admins see it: the public fields plus the lifecycle times. */
export function toAdminUser(row: UserRow) {
  return { ...toPublicUser(row), activated_at: iso(row.activated_at), deactivated_at: iso(row.deactivated_at), updated_at: iso(row.updated_at) as string };
}

const adminUserSchema = {
  type: 'object',
  properties: {
    ...publicUserSchema.properties,
    activated_at: { type: ['string', 'null'] },
    deactivated_at: { type: ['string', 'null'] },
    updated_at: { type: 'string' },
  },
  required: [...publicUserSchema.required, 'activated_at', 'deactivated_at', 'updated_at'],
} as const;

const userIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } },
  required: ['id'],
  additionalProperties: false,
} as const;

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema };

interface ListQuery {
  q?: string;
  role?: 'user' | 'admin';
  active?: 'true' | 'false';
  page?: string;
  per_page?: string;
}

/**
 * Admin user management (role `admin`, CSRF on writes):
 * `GET /api/v1/admin/users/?q=&role=&active=&page=&per_page=`,
 * `GET /api/v1/admin/users/<id>/`, `PATCH /api/v1/admin/users/<id>/`.
 */
export const adminUserRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const admin = () => ctx.services.lifecycle.admin;

  app.get<{ Querystring: ListQuery }>(
    '/api/v1/admin/users/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'List users by id: search by e-mail (q, any part), filter by role and active, paged',
        security: [{ cookieAuth: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: { type: 'string', maxLength: EMAIL_MAX_LENGTH, description: 'Part of the e-mail address, any case.' },
            role: { type: 'string', enum: ['user', 'admin'] },
            active: { type: 'string', enum: ['true', 'false'], description: 'true: can sign in (activated, not deactivated).' },
            page: { type: 'string', pattern: '^[1-9][0-9]{0,6}$', description: '1-based page (default 1).' },
            per_page: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: `Rows per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).` },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { users: { type: 'array', items: adminUserSchema }, page: { type: 'integer' }, per_page: { type: 'integer' }, total: { type: 'integer' } },
            required: ['users', 'page', 'per_page', 'total'],
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const { q, role, active, page, per_page: perPage } = request.query;
      const result = await admin().list({
        q,
        role,
        active: active === undefined ? undefined : active === 'true',
        page: page === undefined ? undefined : Number(page),
        perPage: perPage === undefined ? undefined : Number(perPage),
      });
      return { users: result.users.map(toAdminUser), page: result.page, per_page: result.perPage, total: result.total };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/admin/users/:id/',
    {
      preHandler: requireAdmin(ctx),
      schema: { tags: ['admin'], summary: 'One user', security: [{ cookieAuth: [] }], params: userIdParams, response: { 200: adminUserSchema, ...errors } },
    },
    async (request) => toAdminUser(await admin().get(Number(request.params.id))),
  );

  app.patch<{ Params: { id: string }; Body: { role?: 'user' | 'admin'; active?: boolean } }>(
    '/api/v1/admin/users/:id/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Change a role, deactivate (every session ends) or reactivate a user',
        security: [{ cookieAuth: [] }],
        params: userIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { role: { type: 'string', enum: ['user', 'admin'] }, active: { type: 'boolean' } },
          examples: [{ active: false }, { role: 'admin' }],
        },
        response: { 200: adminUserSchema, 409: errorBodySchema, ...errors },
      },
    },
    async (request) => {
      const actor = request.auth?.userId;
      return toAdminUser(await admin().update(Number(request.params.id), { role: request.body.role, active: request.body.active }, actor));
    },
  );
};
