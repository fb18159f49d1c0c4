import { DEFAULT_OUTPUT_SLICE, DEFAULT_RUNS_PAGE, MAX_OUTPUT_SLICE, MAX_RUNS_PAGE, RUN_STATUSES, TRIGGERS, type RunDetail, type RunListItem } from '../../jobs/history.js';
import { installAuth, requireAdmin } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import { iso } from './cron-schemas.js';

const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

const runItemProperties = {
  id: { type: 'integer' },
  job: { type: 'string' },
  scheduled_for: isoOrNull,
  trigger: { type: 'string', enum: TRIGGERS },
  status: { type: 'string', enum: RUN_STATUSES },
  started_at: { type: 'string', format: 'date-time' },
  finished_at: isoOrNull,
  duration_ms: { type: ['integer', 'null'] },
  counts: { type: 'object', additionalProperties: { type: 'number' } },
  dry_run: { type: 'boolean' },
  instance_id: { type: 'string' },
  lateness_ms: { type: ['integer', 'null'], description: 'started_at - scheduled_for; null for ad-hoc runs.' },
  error: { type: ['string', 'null'] },
  output_preview: { type: ['string', 'null'], description: 'The first 200 characters of the output.' },
  output_truncated: { type: 'boolean' },
} as const;
const runItemRequired = Object.keys(runItemProperties);

export const runItemSchema = { type: 'object', properties: runItemProperties, required: runItemRequired } as const;

const runDetailSchema = {
  type: 'object',
  properties: {
    ...runItemProperties,
    error: { type: ['string', 'null'], description: 'The whole (short, redacted) error message.' },
    output: { type: ['string', 'null'], description: 'output_limit characters of the output from output_offset.' },
    output_offset: { type: 'integer' },
    output_length: { type: 'integer' },
    error_detail: { type: ['string', 'null'], description: 'Stack and cause chain of a failure, redacted.' },
    caller_ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
    request_id: { type: ['string', 'null'] },
    params: { type: ['object', 'null'], additionalProperties: true },
  },
  required: [...runItemRequired, 'output', 'output_offset', 'output_length', 'error_detail', 'caller_ip', 'user_agent', 'request_id', 'params'],
} as const;

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema };
const security = [{ cookieAuth: [] }];

/** A history item as the API shows it (snake_case, ISO times). */
export function runItemBody(run: RunListItem) {
  return {
    id: run.id,
    job: run.job,
    scheduled_for: iso(run.scheduledFor),
    trigger: run.trigger,
    status: run.status,
    started_at: iso(run.startedAt) as string,
    finished_at: iso(run.finishedAt),
    duration_ms: run.durationMs,
    counts: run.counts,
    dry_run: run.dryRun,
    instance_id: run.instanceId,
    lateness_ms: run.latenessMs,
    error: run.error,
    output_preview: run.outputPreview,
    output_truncated: run.outputTruncated,
  };
}

function runDetailBody(run: RunDetail) {
  return {
    ...runItemBody({ ...run, error: run.error }),
    output: run.output,
    output_offset: run.outputOffset,
    output_length: run.outputLength,
    error_detail: run.errorDetail,
    caller_ip: run.callerIp,
    user_agent: run.userAgent,
    request_id: run.requestId,
    params: run.params,
  };
}

/** `Date.parse` of a schema-checked date-time; NaN goes on to the domain's check. */
const time = (value: string | undefined) => (value === undefined ? undefined : Date.parse(value));
const whole = (value: string | undefined) => (value === undefined ? undefined : Number(value));

interface ListQuery {
  job?: string;
  status?: string;
  trigger?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
}

/**
 * The run history for the console (role `admin`): `GET /api/v1/admin/runs/`
 * (filters, keyset paging, newest first) and `GET /api/v1/admin/runs/<id>/`
 * (one run, its output paged). Reads through the jobs service's history;
 * junk filters are 400 VALIDATION_FAILED.
 */
export const adminRunRoutes: RouteModule = (app, ctx) => {
  installAuth(app);

  app.get<{ Querystring: ListQuery }>(
    '/api/v1/admin/runs/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'The run ledger, newest first: filter by job, status, trigger and start time; page with next_cursor',
        security,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            job: { type: 'string', minLength: 1, maxLength: 100, description: 'A registered job name, or schedule-run (the /cron/run rows).' },
            status: { type: 'string', enum: RUN_STATUSES },
            trigger: { type: 'string', enum: TRIGGERS },
            from: { type: 'string', format: 'date-time', description: 'Runs started at or after this ISO 8601 date-time.' },
            to: { type: 'string', format: 'date-time', description: 'Runs started at or before this ISO 8601 date-time.' },
            limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: `1..${MAX_RUNS_PAGE} (default ${DEFAULT_RUNS_PAGE}).` },
            cursor: { type: 'string', minLength: 1, maxLength: 128, description: 'next_cursor of the previous page.' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { runs: { type: 'array', items: runItemSchema }, next_cursor: { type: ['string', 'null'] } },
            required: ['runs', 'next_cursor'],
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const { job, status, trigger, from, to, limit, cursor } = request.query;
      const page = await ctx.services.jobs.history.list({
        ...(job === undefined ? {} : { job }),
        ...(status === undefined ? {} : { status }),
        ...(trigger === undefined ? {} : { trigger }),
        ...(from === undefined ? {} : { from: time(from) }),
        ...(to === undefined ? {} : { to: time(to) }),
        ...(limit === undefined ? {} : { limit: whole(limit) }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return { runs: page.runs.map(runItemBody), next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { output_offset?: string; output_limit?: string } }>(
    '/api/v1/admin/runs/:id/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: "One run in full: a slice of its output, the error with its stack, caller IP, user agent, request id, parameters",
        security,
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } }, required: ['id'], additionalProperties: false },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            output_offset: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'First character of the output slice (default 0).' },
            output_limit: { type: 'string', pattern: '^[0-9]{1,6}$', description: `Characters in the slice, 1..${MAX_OUTPUT_SLICE} (default ${DEFAULT_OUTPUT_SLICE}).` },
          },
        },
        response: { 200: runDetailSchema, ...errors, 404: errorBodySchema },
      },
    },
    async (request) => {
      const offset = whole(request.query.output_offset) ?? 0;
      const limit = whole(request.query.output_limit) ?? DEFAULT_OUTPUT_SLICE;
      return runDetailBody(await ctx.services.jobs.history.get(Number(request.params.id), offset, limit));
    },
  );
};
