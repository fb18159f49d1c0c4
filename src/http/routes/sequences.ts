import { AppError } from '../../errors.js';
import type { SendState } from '../../db/schema/sequences.js';
import { installAuth, requireAdmin } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import { enrollmentBody, enrollmentSchema, outboxSendBody, sendBody, sendSchema, sequenceBody, sequenceExample, sequenceSchema } from './sequence-schemas.js';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema };
const security = [{ cookieAuth: [] }];
const tags = ['sequences'];
const keyParams = {
  type: 'object',
  properties: { key: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['key'],
  additionalProperties: false,
} as const;
/**
 * A whole number in the query string. Query values are strings and the
 * server does not coerce types, so `{type: 'integer'}` refused every
 * `?limit=` (bug: `GET /api/v1/admin/sends/?limit=5` answered 400).
 */
const queryInt = (description: string) => ({ type: 'string', pattern: '^[0-9]{1,7}$', description }) as const;

/** `?limit=` as a number: 1..1000, default 100; out of range is 400. */
function limitOf(value: string | undefined): number {
  if (value === undefined) return 100;
  const limit = Number(value);
  if (limit < 1 || limit > 1000) throw new AppError('VALIDATION_FAILED', 'limit must be between 1 and 1000.');
  return limit;
}

/** The definition is checked field by field in src/sequences/definition.ts (errors name the field). */
/** Checked field by field in the domain (parseSequence), which names the field it refuses; the example is for /docs. */
const definitionBody = {
  type: 'object',
  examples: [
    {
      key: 'welcome',
      name: 'Welcome',
      active: true,
      steps: [
        { delay: '0s', subject: 'Welcome, {{ first_name }}', text: 'Hello {{ first_name }}, welcome aboard. Unsubscribe: {{ unsubscribe_url }}' },
        { delay: '2d', subject: 'Getting started', text: 'Two tips for {{ email }}.', html: '<p>Two tips for {{ email }}.</p>' },
      ],
    },
  ],
} as const;

/**
 * Admin API for sequence mail (admin session or access-token Bearer; CSRF on
 * unsafe cookie requests): sequences, enrollments, and the send ledger with
 * the operator's verdict on `unknown` sends.
 */
export const sequenceRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const admin = requireAdmin(ctx);
  const service = () => ctx.services.sequences;
  const messageIdDomain = `seq.${new URL(ctx.config.publicUrl).hostname}`;

  app.post('/api/v1/admin/sequences/', {
    preHandler: admin,
    schema: { tags, security, summary: 'Create a sequence {key, name, steps:[{delay, subject, text, html?}], active?}', body: definitionBody, response: { 201: sequenceSchema, ...errors } },
  }, async (request, reply) => reply.status(201).send(sequenceBody(await service().create(request.body))));

  app.get('/api/v1/admin/sequences/', {
    preHandler: admin,
    schema: {
      tags, security, summary: 'Sequences with counts (enrolled, active, completed, unsubscribed, sent, failed, unknown, due now) and the exact sent count per step (sent_per_step)',
      response: {
        200: { type: 'object', properties: { sequences: { type: 'array', items: sequenceSchema } }, required: ['sequences'], examples: [{ sequences: [sequenceExample] }] },
        ...errors,
      },
    },
  }, async () => ({ sequences: (await service().list()).map(sequenceBody) }));

  app.get<{ Params: { key: string } }>('/api/v1/admin/sequences/:key/', {
    preHandler: admin,
    schema: { tags, security, summary: 'One sequence with steps and counts', params: keyParams, response: { 200: sequenceSchema, ...errors } },
  }, async (request) => sequenceBody(await service().get(request.params.key)));

  app.put<{ Params: { key: string } }>('/api/v1/admin/sequences/:key/', {
    preHandler: admin,
    schema: { tags, security, summary: 'Replace name, flag and steps (a step already sent is never sent again)', params: keyParams, body: definitionBody, response: { 200: sequenceSchema, ...errors } },
  }, async (request) => sequenceBody(await service().update(request.params.key, request.body)));

  app.delete<{ Params: { key: string }; Querystring: { force?: string } }>('/api/v1/admin/sequences/:key/', {
    preHandler: admin,
    schema: {
      tags, security, summary: 'Delete a sequence; with active enrollments only with ?force=1',
      params: keyParams,
      querystring: { type: 'object', properties: { force: { type: 'string', enum: ['0', '1', 'true', 'false'] } }, additionalProperties: false },
      response: { 200: { type: 'object', properties: { deleted: { type: 'string' } }, required: ['deleted'] }, ...errors },
    },
  }, async (request) => {
    const force = request.query.force === '1' || request.query.force === 'true';
    await service().delete(request.params.key, force);
    return { deleted: request.params.key };
  });

  app.post<{ Params: { key: string }; Body: { email?: string; user_id?: number } }>('/api/v1/admin/sequences/:key/enrollments/', {
    preHandler: admin,
    schema: {
      tags, security, summary: 'Enroll a user by {email} or {user_id}: 201, or 200 with the existing enrollment',
      params: keyParams,
      body: {
        type: 'object',
        properties: { email: { type: 'string', minLength: 3, maxLength: 254 }, user_id: { type: 'integer', minimum: 1 } },
        additionalProperties: false,
        oneOf: [{ required: ['email'] }, { required: ['user_id'] }],
        examples: [{ email: 'ada@example.com' }],
      },
      response: { 200: enrollmentSchema, 201: enrollmentSchema, ...errors },
    },
  }, async (request, reply) => {
    const { email, user_id: userId } = request.body;
    const result = await service().enroll(request.params.key, userId !== undefined ? { userId } : { email: email ?? '' });
    return reply.status(result.created ? 201 : 200).send(enrollmentBody(result.enrollment));
  });

  app.get<{ Params: { key: string }; Querystring: { limit?: string; offset?: string } }>('/api/v1/admin/sequences/:key/enrollments/', {
    preHandler: admin,
    schema: {
      tags, security, summary: 'Enrollments with their next step and its due time, newest first',
      params: keyParams,
      querystring: {
        type: 'object',
        properties: { limit: queryInt('1..1000, default 100'), offset: queryInt('default 0') },
        additionalProperties: false,
      },
      response: { 200: { type: 'object', properties: { enrollments: { type: 'array', items: enrollmentSchema } }, required: ['enrollments'] }, ...errors },
    },
  }, async (request) => {
    const rows = await service().listEnrollments(request.params.key, limitOf(request.query.limit), request.query.offset === undefined ? 0 : Number(request.query.offset));
    return { enrollments: rows.map(enrollmentBody) };
  });

  app.delete<{ Params: { key: string; id: string } }>('/api/v1/admin/sequences/:key/enrollments/:id/', {
    preHandler: admin,
    schema: {
      tags, security, summary: 'Stop one enrollment (no further steps)',
      params: { type: 'object', properties: { key: { type: 'string', minLength: 1, maxLength: 64 }, id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } }, required: ['key', 'id'], additionalProperties: false },
      response: { 200: enrollmentSchema, ...errors },
    },
  }, async (request) => enrollmentBody(await service().stopEnrollment(request.params.key, Number(request.params.id))));

  app.get<{ Querystring: { state?: SendState; sequence?: string; source?: 'sequence' | 'outbox'; limit?: string } }>('/api/v1/admin/sends/', {
    preHandler: admin,
    schema: {
      tags, security, summary: 'The send ledger, newest first; ?state=unknown lists what an operator must resolve (source=outbox: transactional mail)',
      querystring: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: ['queued', 'sending', 'sent', 'failed', 'unknown', 'skipped'] },
          sequence: { type: 'string', minLength: 1, maxLength: 64 },
          source: { type: 'string', enum: ['sequence', 'outbox'], default: 'sequence' },
          limit: queryInt('1..1000, default 100'),
        },
        additionalProperties: false,
      },
      response: { 200: { type: 'object', properties: { sends: { type: 'array', items: sendSchema } }, required: ['sends'] }, ...errors },
    },
  }, async (request) => {
    const { state, sequence, source } = request.query;
    const limit = limitOf(request.query.limit);
    if (source === 'outbox') {
      if (state !== undefined && state !== 'unknown') throw new AppError('VALIDATION_FAILED', 'state: the outbox lists only unknown rows here');
      return { sends: (await ctx.services.mail.unknown.list(limit)).map(outboxSendBody) };
    }
    const rows = await service().listSends({ ...(state ? { state } : {}), ...(sequence ? { sequenceKey: sequence } : {}), limit });
    return { sends: rows.map((row) => sendBody(row, messageIdDomain)) };
  });

  app.post<{ Params: { id: string }; Body: { outcome: 'sent' | 'retry' } }>('/api/v1/admin/sends/:id/resolve/', {
    preHandler: admin,
    schema: {
      tags, security, summary: 'Resolve an unknown send: "sent" (it arrived) or "retry" (send it again)',
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^(outbox-)?[1-9][0-9]{0,14}$' } }, required: ['id'], additionalProperties: false },
      body: { type: 'object', properties: { outcome: { type: 'string', enum: ['sent', 'retry'] } }, required: ['outcome'], additionalProperties: false, examples: [{ outcome: 'sent' }] },
      response: { 200: sendSchema, ...errors },
    },
  }, async (request) => {
    const { id } = request.params;
    if (id.startsWith('outbox-')) {
      const outboxId = Number(id.slice('outbox-'.length));
      if (!(await ctx.services.mail.unknown.resolve(outboxId, request.body.outcome))) {
        throw new AppError('SEND_NOT_UNKNOWN', `Outbox mail ${outboxId} does not exist or is not unknown.`);
      }
      return { id, source: 'outbox', state: request.body.outcome === 'sent' ? 'sent' : 'pending' };
    }
    return sendBody(await service().resolve(Number(id), request.body.outcome), messageIdDomain);
  });
};
