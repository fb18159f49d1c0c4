import { installAuth, requireAdmin } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import { callerInfo } from '../trigger-hooks.js';
import { jobStatusBody, jobStatusSchema, runSummaryBody, runSummarySchema } from './cron-schemas.js';

const jobParams = {
  type: 'object',
  // No pattern: an unknown name is 404 JOB_NOT_FOUND, as on /cron/jobs/<name>/run.
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
  required: ['name'],
  additionalProperties: false,
} as const;

const noQuery = { type: 'object', properties: {}, additionalProperties: false } as const;
const jobAnswer = { type: 'object', properties: { job: jobStatusSchema }, required: ['job'] } as const;
const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema };
const security = [{ cookieAuth: [] }];

/**
 * The console's job actions (role `admin`, CSRF): pause and resume (persisted,
 * honoured by every instance) and "Run now" / "Dry run". They call the same
 * jobs service as the CLI; the run goes through the one runner with trigger
 * `http` and the admin's IP, user agent and request id in the ledger.
 */
export const adminJobRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const jobs = () => ctx.services.jobs;
  const actor = (request: { auth: { email: string } | null }) => request.auth?.email ?? 'admin';
  // The bodies are optional: a bare POST (no content) counts as `{}`.
  const emptyBody = async (request: { body: unknown }) => {
    request.body ??= {};
  };

  app.post<{ Params: { name: string }; Body: { reason?: string } }>(
    '/api/v1/admin/jobs/:name/pause/',
    {
      preValidation: emptyBody,
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Pause a job on every instance: the scheduler and /cron/run skip it, outside callers get 409 JOB_PAUSED, it is never late',
        security,
        params: jobParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { reason: { type: 'string', maxLength: 500 } },
          examples: [{ reason: 'database maintenance until 14:00' }, {}],
        },
        response: { 200: jobAnswer, ...errors },
      },
    },
    async (request) => ({ job: jobStatusBody(await jobs().pause(request.params.name, actor(request), request.body.reason)) }),
  );

  app.post<{ Params: { name: string } }>(
    '/api/v1/admin/jobs/:name/resume/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Resume a paused job; its catch-up and lateness count from now (no flood of catch-up runs)',
        security,
        params: jobParams,
        querystring: noQuery,
        response: { 200: jobAnswer, ...errors },
      },
    },
    async (request) => ({ job: jobStatusBody(await jobs().resume(request.params.name, actor(request))) }),
  );

  app.post<{ Params: { name: string }; Body: { dry_run?: boolean } }>(
    '/api/v1/admin/jobs/:name/run/',
    {
      preValidation: emptyBody,
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'Run a job now ("Run now"), or count what it would do (dry_run); runs a paused job too; a real run of a disabled job is 409 JOB_DISABLED',
        security,
        params: jobParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { dry_run: { type: 'boolean', default: false } },
          examples: [{ dry_run: true }],
        },
        response: { 200: { type: 'object', properties: { run: runSummarySchema }, required: ['run'] }, 409: errorBodySchema, ...errors },
      },
    },
    async (request) => {
      const run = await jobs().runJob(request.params.name, {
        dryRun: request.body.dry_run === true,
        trigger: 'console',
        caller: callerInfo(request),
        allowPaused: true,
      });
      return { run: runSummaryBody(run) };
    },
  );
};
