import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { defineJob } from '../../src/jobs/define.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient, type ErrorBody } from '../auth/support.js';
import { SECRET } from '../triggers/helpers.js';

const PASSWORD = 'admin jobs password long';
const START = Date.UTC(2026, 4, 5, 10, 0, 30);
const bearer = { authorization: `Bearer ${SECRET}` };

interface JobBody {
  job: string;
  schedule_text: string;
  paused: boolean;
  paused_at: string | null;
  paused_by: string | null;
  pause_reason: string | null;
  late: boolean;
  late_after_seconds: number;
  late_by_seconds: number;
  enabled: boolean;
}
type Status = { jobs: JobBody[] };

const extraJobs = () => [defineJob({ name: 'test-minutely', description: 'TEST ONLY', schedule: '* * * * *', run: async ({ dryRun }) => ({ touched: dryRun ? 0 : 1 }) })];

describe('admin job actions: pause, resume, run now, dry run; /cron/status fields; two apps on one database', () => {
  const clock = new TestClock(START);
  let t: TestApp;
  let second: TestApp;
  let admin: HttpClient;
  let user: HttpClient;
  before(async () => {
    const env = { CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000' };
    t = await startTestApp({ clock, env, extraJobs });
    second = await startTestApp({ clock, env, extraJobs, database: t.database });
    await createUser(t, { email: 'root@example.com', password: PASSWORD, role: 'admin' });
    await createUser(t, { email: 'ann@example.com', password: PASSWORD });
    admin = await loggedInClient(t, 'root@example.com', PASSWORD);
    user = await loggedInClient(t, 'ann@example.com', PASSWORD);
  });
  after(async () => {
    await second.stop();
    await t.stop();
  });

  const status = async (app: TestApp, name: string) => {
    const response = await new HttpClient(app.url).get<Status>('/cron/status', { headers: bearer });
    assert.equal(response.status, 200, response.text);
    const job = response.body.jobs.find((j) => j.job === name);
    assert.ok(job, name);
    return job;
  };

  it('/cron/status adds paused, paused_at, paused_by, late_after_seconds, late_by_seconds and schedule_text', async () => {
    const job = await status(t, 'logout-all-users');
    assert.deepEqual(
      { paused: job.paused, paused_at: job.paused_at, paused_by: job.paused_by, late_after_seconds: job.late_after_seconds, late_by_seconds: job.late_by_seconds, schedule_text: job.schedule_text },
      { paused: false, paused_at: null, paused_by: null, late_after_seconds: 25 * 3600, late_by_seconds: 0, schedule_text: 'At 02:00 AM' },
    );
    assert.equal((await status(t, 'test-minutely')).late_after_seconds, 600);
  });

  it('pause: 200 {job}; the other app and /cron/status report it; an outside caller gets 409 JOB_PAUSED; the console still runs it', async () => {
    const paused = await admin.post<{ job: JobBody }>('/api/v1/admin/jobs/test-minutely/pause/', { json: { reason: 'maintenance' }, headers: csrfHeaders(admin) });
    assert.equal(paused.status, 200, paused.text);
    assert.deepEqual([paused.body.job.job, paused.body.job.paused, paused.body.job.paused_by, paused.body.job.pause_reason, paused.body.job.paused_at], ['test-minutely', true, 'root@example.com', 'maintenance', new Date(START).toISOString()]);
    const seen = await status(second, 'test-minutely');
    assert.equal(seen.paused, true);
    assert.equal(seen.paused_by, 'root@example.com');

    const outside = await new HttpClient(second.url).post<ErrorBody>('/cron/jobs/test-minutely/run', { headers: bearer });
    assert.equal(outside.status, 409, outside.text);
    assert.equal(outside.body.error.code, 'JOB_PAUSED');

    const run = await admin.post<{ run: { id: number; job: string; status: string; trigger: string; dry_run: boolean; counts: Record<string, number> } }>('/api/v1/admin/jobs/test-minutely/run/', {
      json: {},
      headers: { ...csrfHeaders(admin), 'user-agent': 'console-test/1.0', 'x-request-id': 'req-console-1' },
    });
    assert.equal(run.status, 200, run.text);
    assert.deepEqual([run.body.run.job, run.body.run.status, run.body.run.trigger, run.body.run.dry_run, run.body.run.counts.touched], ['test-minutely', 'ok', 'console', false, 1]);
    const row = await t.app.services.storage.db.selectFrom('cron_runs').selectAll().where('id', '=', run.body.run.id).executeTakeFirstOrThrow();
    assert.deepEqual([row.trigger, row.caller_ip, row.user_agent, row.request_id], ['console', '127.0.0.1', 'console-test/1.0', 'req-console-1'], "the admin's caller info is in the ledger");
    const overview = await admin.get<{ last_cron_run: { run_id: number; fired_by: string } | null }>('/api/v1/admin/overview/');
    assert.deepEqual([overview.body.last_cron_run?.run_id, overview.body.last_cron_run?.fired_by], [run.body.run.id, 'console'], 'the overview says an admin fired it');

    const dry = await admin.post<{ run: { dry_run: boolean; counts: Record<string, number> } }>('/api/v1/admin/jobs/test-minutely/run/', { json: { dry_run: true }, headers: csrfHeaders(admin) });
    assert.equal(dry.status, 200, dry.text);
    assert.deepEqual([dry.body.run.dry_run, dry.body.run.counts.touched], [true, 0]);
  });

  it('pause with no body, twice: the first pause stands; resume: 200 and not paused on both apps', async () => {
    const again = await admin.post<{ job: JobBody }>('/api/v1/admin/jobs/test-minutely/pause/', { headers: csrfHeaders(admin) });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.job.pause_reason, 'maintenance');
    const resumed = await admin.post<{ job: JobBody }>('/api/v1/admin/jobs/test-minutely/resume/', { headers: csrfHeaders(admin) });
    assert.equal(resumed.status, 200, resumed.text);
    assert.deepEqual([resumed.body.job.paused, resumed.body.job.paused_by], [false, null]);
    assert.equal((await status(second, 'test-minutely')).paused, false);
    assert.equal((await new HttpClient(second.url).post('/cron/jobs/test-minutely/run', { headers: bearer })).status, 200);
  });

  it('a disabled job (logout-all-users) can be dry-run from the console; a real run is 409 JOB_DISABLED', async () => {
    const dry = await admin.post<{ run: { status: string; dry_run: boolean } }>('/api/v1/admin/jobs/logout-all-users/run/', { json: { dry_run: true }, headers: csrfHeaders(admin) });
    assert.equal(dry.status, 200, dry.text);
    assert.deepEqual([dry.body.run.status, dry.body.run.dry_run], ['ok', true]);
    const real = await admin.post<ErrorBody>('/api/v1/admin/jobs/logout-all-users/run/', { json: { dry_run: false }, headers: csrfHeaders(admin) });
    assert.equal(real.status, 409, real.text);
    assert.equal(real.body.error.code, 'JOB_DISABLED');
  });

  it('non-admin 403, no CSRF 403, signed out 401, unknown job 404, junk 400 — and nothing changes', async () => {
    const paths = ['pause', 'resume', 'run'].map((action) => `/api/v1/admin/jobs/test-minutely/${action}/`);
    for (const path of paths) {
      const forbidden = await user.post<ErrorBody>(path, { json: {}, headers: csrfHeaders(user) });
      assert.equal(forbidden.status, 403, path);
      assert.equal(forbidden.body.error.code, 'FORBIDDEN');
      const noCsrf = await admin.post<ErrorBody>(path, { json: {} });
      assert.equal(noCsrf.status, 403, path);
      assert.equal(noCsrf.body.error.code, 'CSRF_FAILED');
      assert.equal((await new HttpClient(t.url).post(path, { json: {} })).status, 401, path);
    }
    assert.equal((await status(t, 'test-minutely')).paused, false, 'no refused request paused it');
    const missing = await admin.post<ErrorBody>('/api/v1/admin/jobs/no-such-job/pause/', { json: {}, headers: csrfHeaders(admin) });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'JOB_NOT_FOUND');
    for (const [path, json] of [
      [`/api/v1/admin/jobs/${'a'.repeat(101)}/pause/`, {}],
      ['/api/v1/admin/jobs/test-minutely/pause/', { reason: 'x'.repeat(501) }],
      ['/api/v1/admin/jobs/test-minutely/pause/', { reason: 42 }],
      ['/api/v1/admin/jobs/test-minutely/run/', { dry_run: 'yes please' }],
      ['/api/v1/admin/jobs/test-minutely/run/', { other: 1 }],
      ['/api/v1/admin/jobs/test-minutely/resume/?now=1', {}],
    ] as const) {
      const bad = await admin.post(path, { json, headers: csrfHeaders(admin) });
      assert.equal(bad.status, 400, `${path} ${JSON.stringify(json)}: ${bad.text}`);
    }
  });

  it('late_by_seconds, the curfew_job_late metric and the pause agree (one lateness rule)', async () => {
    clock.advance(11 * 60_000);
    const late = await status(t, 'test-minutely');
    assert.equal(late.late, true);
    assert.ok(late.late_by_seconds > 0 && late.late_by_seconds <= 60, String(late.late_by_seconds));
    const metrics = async () => (await new HttpClient(t.url).get('/metrics', { headers: bearer })).text;
    assert.match(await metrics(), /curfew_job_late\{job="test-minutely"\} 1/);
    // Eleven minutes on, the access token has expired: sign in again.
    const fresh = await loggedInClient(t, 'root@example.com', PASSWORD);
    assert.equal((await fresh.post('/api/v1/admin/jobs/test-minutely/pause/', { json: {}, headers: csrfHeaders(fresh) })).status, 200);
    assert.deepEqual([(await status(t, 'test-minutely')).late, (await status(t, 'test-minutely')).late_by_seconds], [false, 0]);
    assert.match(await metrics(), /curfew_job_late\{job="test-minutely"\} 0/);
  });
});
