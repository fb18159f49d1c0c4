import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import type { RouteModule } from '../context.js';
import { callerInfo, keepRawBodies, triggerHooks } from '../trigger-hooks.js';
import { hasBoundCsrfCookie } from '../csrf-cookie.js';
import { errorBodySchema } from '../error-handler.js';
import { iso, okMessageSchema, runSummaryBody, runSummarySchema, succeeded, tokenQuery } from './cron-schemas.js';

const guardErrors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 429: errorBodySchema, 503: errorBodySchema } as const;
const security = [{ cronBearer: [] }];

/**
 * The HTTP triggers: `/cron/run` (every due job), `/cron/jobs/:name/run`
 * (one job now) and the seeds' aliases. All sit in one encapsulated scope
 * that keeps raw bodies for signature checks; every route is guarded by
 * the TriggerGuard and exempt from CSRF (they authenticate by secret).
 * GET routes do not answer HEAD, so a probe can never run a job.
 */
export const cronRoutes: RouteModule = async (app, ctx) => {
  await app.register(async (scope) => {
    keepRawBodies(scope);
    // `trigger: true` also lets the early answers refuse what the check refuses from the head (early-answers.ts).
    const guard = { ...triggerHooks(ctx.services), config: { trigger: true } };
    // Per-job routes: an X-Curfew-Slot header is checked against the slot this job would run now.
    const jobGuard = (job: (request: FastifyRequest) => string | undefined) => ({ ...triggerHooks(ctx.services, { job }), config: { trigger: true } });
    const namedJob = (request: FastifyRequest) => (request.params as { name?: string }).name;

    scope.route({
      method: ['GET', 'POST'],
      url: '/cron/run',
      exposeHeadRoute: false,
      ...guard,
      schema: {
        tags: ['triggers'],
        summary: 'Run every due job (schedule:run semantics with catch-up)',
        security,
        querystring: { type: 'object', properties: tokenQuery, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              message: { type: 'string' },
              data: {
                type: 'object',
                properties: {
                  cron_run_id: { type: 'integer' },
                  duration_ms: { type: 'number' },
                  runs: { type: 'array', items: runSummarySchema },
                },
                required: ['cron_run_id', 'duration_ms', 'runs'],
              },
            },
            required: ['ok', 'message', 'data'],
          },
          409: okMessageSchema,
          ...guardErrors,
        },
      },
      handler: async (request, reply) => {
        const outcome = await ctx.services.jobs.runDue('http', callerInfo(request));
        if (outcome.busy) return reply.status(409).send({ ok: false, message: 'Cron is already running.' });
        const { result } = outcome;
        return {
          ok: true,
          message: 'Schedule executed.',
          data: { cron_run_id: result.cronRunId, duration_ms: result.durationMs, runs: result.runs.map(runSummaryBody) },
        };
      },
    });

    scope.get(
      '/cron/jobs/:name/slot',
      {
        ...triggerHooks(ctx.services, { throttled: false }),
        config: { trigger: true },
        exposeHeadRoute: false,
        schema: {
          tags: ['triggers'],
          summary: 'The slot a trigger for this job would run now: the value to sign as X-Curfew-Slot',
          security,
          params: {
            type: 'object',
            properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
            required: ['name'],
            additionalProperties: false,
          },
          querystring: { type: 'object', properties: tokenQuery, additionalProperties: false },
          response: {
            200: {
              type: 'object',
              properties: { job: { type: 'string' }, slot: { type: ['string', 'null'], format: 'date-time' } },
              required: ['job', 'slot'],
            },
            404: errorBodySchema,
            ...guardErrors,
          },
        },
      },
      async (request) => {
        const { name } = request.params as { name: string };
        const slot = ctx.services.triggers.currentSlot(name);
        if (slot === undefined) throw new AppError('JOB_NOT_FOUND', `There is no job named "${name}".`);
        return { job: name, slot: iso(slot) };
      },
    );

    scope.post(
      '/cron/jobs/:name/run',
      {
        ...jobGuard(namedJob),
        schema: {
          tags: ['triggers'],
          summary: 'Run one job now (ad hoc); dry_run=1 counts without changing anything',
          security,
          params: {
            type: 'object',
            properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
            required: ['name'],
            additionalProperties: false,
          },
          querystring: {
            type: 'object',
            properties: { dry_run: { type: 'string', enum: ['0', '1', 'true', 'false'] }, ...tokenQuery },
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: { ok: { type: 'boolean' }, message: { type: 'string' }, data: runSummarySchema },
              required: ['ok', 'message', 'data'],
            },
            404: errorBodySchema,
            409: errorBodySchema,
            500: {
              type: 'object',
              properties: { ok: { type: 'boolean' }, message: { type: 'string' }, data: runSummarySchema },
              required: ['ok', 'message', 'data'],
            },
            ...guardErrors,
          },
        },
      },
      async (request, reply) => {
        const { name } = request.params as { name: string };
        const { dry_run: dryRun } = request.query as { dry_run?: string };
        const run = await ctx.services.jobs.runJob(name, {
          dryRun: dryRun === '1' || dryRun === 'true',
          trigger: 'http',
          caller: callerInfo(request),
        });
        const ok = succeeded(run);
        return reply.status(ok ? 200 : 500).send({
          ok,
          message: ok ? `Job ${run.job} ${run.status === 'skipped' ? 'skipped' : 'executed'}.` : `Job ${run.job} ${run.status}.`,
          data: runSummaryBody(run),
        });
      },
    );

    // Seed 000: a cron container calls this every minute with a Bearer secret.
    scope.delete(
      '/api/cronjob/cron/check-inactive-users',
      {
        ...jobGuard(() => 'check-inactive-users'),
        schema: {
          tags: ['triggers', 'seed compatibility'],
          summary: 'Seed 000 alias: run check-inactive-users now',
          security,
          querystring: { type: 'object', properties: tokenQuery, additionalProperties: false },
          response: {
            200: {
              type: 'object',
              properties: { status: { type: 'string' }, message: { type: 'string' }, data: runSummarySchema },
              required: ['status', 'message'],
            },
            409: errorBodySchema,
            500: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } },
            ...guardErrors,
          },
        },
      },
      async (request, reply) => {
        const run = await ctx.services.jobs.runJob('check-inactive-users', {
          dryRun: false,
          trigger: 'http',
          caller: callerInfo(request),
        });
        if (!succeeded(run)) return reply.status(500).send({ status: 'error', message: 'Inactive users could not be checked.' });
        return { status: 'success', message: 'Inactive users checked.', data: runSummaryBody(run) };
      },
    );

    // Seed 001: a GitHub Actions workflow posts here daily with X-Cron-Secret.
    scope.post(
      '/api/v1/auth/cron/flush-tokens',
      {
        ...jobGuard(() => 'flush-expired-tokens'),
        schema: {
          tags: ['triggers', 'seed compatibility'],
          summary: 'Seed 001 alias: run flush-expired-tokens now',
          security,
          querystring: { type: 'object', properties: tokenQuery, additionalProperties: false },
          response: {
            200: {
              type: 'object',
              properties: { status: { type: 'string' }, message: { type: 'string' } },
              required: ['status', 'message'],
            },
            409: errorBodySchema,
            500: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } },
            ...guardErrors,
          },
        },
      },
      async (request, reply) => {
        const run = await ctx.services.jobs.runJob('flush-expired-tokens', {
          dryRun: false,
          trigger: 'http',
          caller: callerInfo(request),
        });
        if (!succeeded(run)) return reply.status(500).send({ status: 'error', message: 'Expired tokens could not be flushed.' });
        return { status: 'success', message: 'Expired tokens flushed successfully.' };
      },
    );
  });

  // Seed 000 fetches a CSRF cookie first; trigger routes do not need it, but the client expects it.
  // The token comes from the auth area's signed maker, issued to no session, so it unlocks nothing.
  app.get(
    '/api/cronjob/csrf-token',
    {
      schema: {
        tags: ['triggers', 'seed compatibility'],
        summary: 'Seed 000: sets the csrftoken cookie',
        response: { 200: { type: 'object', properties: { detail: { type: 'string' } }, required: ['detail'] } },
      },
    },
    async (request, reply) => {
      if (await hasBoundCsrfCookie(ctx, request)) return { detail: 'CSRF cookie set.' };
      const token = ctx.services.auth.csrf.issue('cron-anonymous');
      reply.setCookie(ctx.config.cookies.csrfName, token, {
        path: '/',
        sameSite: 'lax',
        secure: ctx.config.cookies.secure,
        httpOnly: false,
      });
      return { detail: 'CSRF cookie set.' };
    },
  );
};
