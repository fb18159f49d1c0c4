import { installAuth, requireAdmin } from '../auth.js';
import type { RouteModule } from '../context.js';
import { errorBodySchema } from '../error-handler.js';
import { iso } from './cron-schemas.js';

const DAY = 86_400_000;
const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;
const integer = { type: 'integer' } as const;

const overviewSchema = {
  type: 'object',
  properties: {
    now: { type: 'string', format: 'date-time' },
    last_cron_run: {
      type: ['object', 'null'],
      description: 'The newest ledger row of any job that is not a dry run (nor a missed-slot marker).',
      properties: {
        at: { type: 'string', format: 'date-time' },
        job: { type: 'string' },
        run_id: integer,
        trigger: { type: 'string' },
        fired_by: { type: 'string', enum: ['scheduler', 'outside caller', 'CLI', 'console'] },
        caller_ip: { type: ['string', 'null'] },
      },
      required: ['at', 'job', 'run_id', 'trigger', 'fired_by', 'caller_ip'],
    },
    late_jobs: {
      type: 'array',
      items: { type: 'object', properties: { job: { type: 'string' }, late_by_seconds: integer, late_after_seconds: integer }, required: ['job', 'late_by_seconds', 'late_after_seconds'] },
    },
    failing_jobs: {
      type: 'array',
      items: { type: 'object', properties: { job: { type: 'string' }, consecutive_failures: integer, last_error: { type: ['string', 'null'] } }, required: ['job', 'consecutive_failures', 'last_error'] },
    },
    paused_jobs: { type: 'array', items: { type: 'string' } },
    backlog: {
      type: 'object',
      properties: { due: integer, oldest_due_at: isoOrNull, oldest_age_seconds: { type: ['integer', 'null'] }, missed_slots_24h: integer },
      required: ['due', 'oldest_due_at', 'oldest_age_seconds', 'missed_slots_24h'],
    },
    online_users: integer,
    live_sessions: integer,
    unknown_sends: { type: 'object', properties: { sequence: integer, outbox: integer }, required: ['sequence', 'outbox'] },
  },
  required: ['now', 'last_cron_run', 'late_jobs', 'failing_jobs', 'paused_jobs', 'backlog', 'online_users', 'live_sessions', 'unknown_sends'],
} as const;

/**
 * `GET /api/v1/admin/overview/` (role `admin`): what the console's overview
 * shows, in one call — the last cron run and who fired it, late, failing and
 * paused jobs (the jobs service's status, the one lateness rule), the sequence
 * backlog and missed slots, online users, live sessions and unknown sends.
 * Every figure comes from a service; no SQL here.
 */
export const adminOverviewRoutes: RouteModule = (app, ctx) => {
  installAuth(app);

  app.get(
    '/api/v1/admin/overview/',
    {
      preHandler: requireAdmin(ctx),
      schema: {
        tags: ['admin'],
        summary: 'The console overview: last cron run, late/failing/paused jobs, backlog, online users, live sessions, unknown sends',
        security: [{ cookieAuth: [] }],
        querystring: { type: 'object', properties: {}, additionalProperties: false },
        response: { 200: overviewSchema, 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema },
      },
    },
    async () => {
      const { jobs, sequences, mail, presence, maintenance } = ctx.services;
      const now = ctx.clock.now();
      const [statuses, last, missed, backlog, sends, outboxUnknown, online, live] = await Promise.all([
        jobs.status(),
        jobs.history.lastFired(),
        jobs.history.missedSince(now - DAY),
        sequences.backlog(),
        sequences.sendCounts(),
        mail.unknown.count(),
        presence.countOnline(),
        maintenance.sessions.countLive(),
      ]);
      return {
        now: new Date(now).toISOString(),
        last_cron_run:
          last === null ? null : { at: iso(last.at) as string, job: last.job, run_id: last.runId, trigger: last.trigger, fired_by: last.firedBy, caller_ip: last.callerIp },
        late_jobs: statuses.filter((s) => s.late).map((s) => ({ job: s.job, late_by_seconds: s.lateBySeconds, late_after_seconds: Math.round(s.lateAfterMs / 1000) })),
        failing_jobs: statuses
          .filter((s) => s.consecutiveFailures > 0)
          .map((s) => ({ job: s.job, consecutive_failures: s.consecutiveFailures, last_error: s.lastRun?.error ?? null })),
        paused_jobs: statuses.filter((s) => s.paused).map((s) => s.job),
        backlog: {
          due: backlog.due,
          oldest_due_at: iso(backlog.oldestDueAt),
          oldest_age_seconds: backlog.oldestDueAt === null ? null : Math.max(0, Math.floor((now - backlog.oldestDueAt) / 1000)),
          missed_slots_24h: missed,
        },
        online_users: online,
        live_sessions: live,
        unknown_sends: { sequence: sends.unknown, outbox: outboxUnknown },
      };
    },
  );
};
