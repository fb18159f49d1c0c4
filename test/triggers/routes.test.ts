import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { signedHeaders } from '../../src/triggers/signature.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testJobs } from '../helpers/test-jobs.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { SECRET, assertNoSecretInLogs, errorCode, type ErrorBody } from './helpers.js';

interface RunBody {
  id: number | null;
  job: string;
  status: string;
  trigger: string;
  counts: Record<string, number>;
  dry_run?: boolean;
}
interface ScheduleBody {
  ok: boolean;
  message: string;
  data: { cron_run_id: number; duration_ms: number; runs: RunBody[] };
}

const bearer = { authorization: `Bearer ${SECRET}`, 'user-agent': 'route-test/1.0', 'x-request-id': 'req-route-test-1' };

describe('trigger routes with the real scheduler', () => {
  const clock = new TestClock(Date.UTC(2026, 4, 5, 10, 0, 30));
  let t: TestApp;
  let http: HttpClient;
  before(async () => {
    t = await startTestApp({
      clock,
      env: { CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000', JOB_TEST_SLOW_ENABLED: 'true' },
      extraJobs: testJobs,
    });
    http = new HttpClient(t.url);
  });
  after(async () => {
    assertNoSecretInLogs([t], [SECRET]);
    await t.stop();
  });

  async function ledgerRow(id: number) {
    return t.app.services.storage.db.selectFrom('cron_runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  it('POST /cron/jobs/:name/run runs one job and records trigger http, caller IP, user agent and request id', async () => {
    const response = await http.post<{ ok: boolean; message: string; data: RunBody }>('/cron/jobs/test-counter/run', { headers: bearer });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.ok, true);
    assert.equal(response.body.data.job, 'test-counter');
    assert.equal(response.body.data.status, 'ok');
    assert.deepEqual(response.body.data.counts, { written: 1 });
    const row = await ledgerRow(response.body.data.id as number);
    assert.equal(row.trigger, 'http');
    assert.equal(row.caller_ip, '127.0.0.1');
    assert.equal(row.user_agent, 'route-test/1.0');
    assert.equal(row.request_id, 'req-route-test-1');
    assert.equal(row.dry_run, 0);
    assert.ok(!JSON.stringify(row).includes(SECRET), 'no credential in the ledger row');
  });

  it('honours ?dry_run=1 and answers 404 JOB_NOT_FOUND for an unknown job', async () => {
    const dry = await http.post<{ data: RunBody }>('/cron/jobs/test-counter/run?dry_run=1', { headers: bearer });
    assert.equal(dry.status, 200);
    assert.deepEqual(dry.body.data.counts, { written: 0 });
    assert.equal((await ledgerRow(dry.body.data.id as number)).dry_run, 1);
    const missing = await http.post<ErrorBody>('/cron/jobs/no-such-job/run', { headers: bearer });
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing), 'JOB_NOT_FOUND');
    const badQuery = await http.post<ErrorBody>('/cron/jobs/test-counter/run?dry_run=maybe', { headers: bearer });
    assert.equal(badQuery.status, 400);
  });

  it('GET|POST /cron/run answers "Schedule executed." with the schedule-run id and the runs; a second call meanwhile gets 409', async () => {
    clock.set(Date.UTC(2026, 4, 5, 10, 1, 0, 200));
    const first = http.post<ScheduleBody>('/cron/run', { headers: bearer });
    // test-slow works 2.5 s: poll until the first schedule-run is recorded as running, then call again.
    let busy: Awaited<ReturnType<typeof http.get<{ ok: boolean; message: string }>>> | undefined;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      const running = await t.app.services.storage.db
        .selectFrom('cron_runs')
        .select('id')
        .where('job', '=', 'schedule-run')
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (running) {
        busy = await http.get<{ ok: boolean; message: string }>('/cron/run', { headers: bearer });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(busy, 'the first call took the schedule-run lease');
    assert.equal(busy.status, 409);
    assert.deepEqual(busy.body, { ok: false, message: 'Cron is already running.' });

    const done = await first;
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.ok, true);
    assert.equal(done.body.message, 'Schedule executed.');
    assert.equal(typeof done.body.data.cron_run_id, 'number');
    assert.equal(typeof done.body.data.duration_ms, 'number');
    const jobs = done.body.data.runs.map((run) => `${run.job}:${run.status}`);
    assert.ok(jobs.includes('test-counter:ok'), jobs.join(','));
    assert.ok(jobs.includes('test-slow:ok'), jobs.join(','));
    const self = await ledgerRow(done.body.data.cron_run_id);
    assert.equal(self.job, 'schedule-run');
    assert.equal(self.trigger, 'http');

    const again = await http.get<ScheduleBody>('/cron/run', { headers: { 'x-cron-secret': SECRET } });
    assert.equal(again.status, 200);
    assert.ok(!again.body.data.runs.some((run) => run.status === 'ok' && run.job === 'test-counter'), 'the slot already ran');
  });

  it('answers the seed aliases exactly as the seeds expect, CSRF-exempt', async () => {
    const csrf = await http.get('/api/cronjob/csrf-token');
    assert.equal(csrf.status, 200);
    assert.ok(http.cookie('csrftoken'), 'the csrftoken cookie is set');
    assert.match(csrf.setCookies.csrftoken ?? '', /Path=\//);
    assert.doesNotMatch(csrf.setCookies.csrftoken ?? '', /HttpOnly/i, 'readable by the client');

    // Seed 000: DELETE with Bearer + X-CSRFToken + the cookie; the token is not checked, the secret is.
    const check = await http.delete<{ status: string; message: string }>('/api/cronjob/cron/check-inactive-users', {
      headers: { authorization: `Bearer ${SECRET}`, 'x-csrftoken': http.cookie('csrftoken') ?? '', referer: t.url },
    });
    assert.equal(check.status, 200, check.text);
    assert.equal(check.body.status, 'success');
    const noCsrf = await http.delete('/api/cronjob/cron/check-inactive-users', { headers: { authorization: `Bearer ${SECRET}` }, cookies: false });
    assert.equal(noCsrf.status, 200, 'trigger routes are CSRF-exempt');

    // Seed 001: curl -X POST -H "X-Cron-Secret: ..." with no body, trailing slash.
    for (const path of ['/api/v1/auth/cron/flush-tokens/', '/api/v1/auth/cron/flush-tokens']) {
      const flush = await http.post(path, { headers: { 'x-cron-secret': SECRET }, cookies: false });
      assert.equal(flush.status, 200, `${path}: ${flush.text}`);
      assert.deepEqual(flush.body, { status: 'success', message: 'Expired tokens flushed successfully.' });
    }
  });

  it('runs a signed POST with a JSON body, and never answers HEAD on a trigger', async () => {
    const body = JSON.stringify({ note: 'signed' });
    const path = '/cron/jobs/test-counter/run';
    const headers = { ...signedHeaders(SECRET, 'POST', path, clock.now(), body), 'content-type': 'application/json' };
    const signed = await http.post<{ data: RunBody }>(path, { headers, body, cookies: false });
    assert.equal(signed.status, 200, signed.text);
    assert.equal(signed.body.data.status, 'ok');
    const head = await http.request('HEAD', '/cron/run', { headers: bearer });
    assert.equal(head.status, 404);
  });

  it('shows /cron/status to a cron secret: schedule, next slot, last run, late, failures, lease holder', async () => {
    const denied = await http.get<ErrorBody>('/cron/status', { cookies: false });
    assert.equal(denied.status, 401);
    const response = await http.get<{ ok: boolean; jobs: Array<Record<string, unknown>> }>('/cron/status', { headers: bearer });
    assert.equal(response.status, 200, response.text);
    const counter = response.body.jobs.find((job) => job.job === 'test-counter');
    assert.ok(counter);
    assert.equal(counter.schedule, '* * * * * *');
    assert.equal(typeof counter.next_slot, 'string');
    assert.equal((counter.last_run as RunBody).status, 'ok');
    assert.equal(typeof counter.last_success_at, 'string');
    assert.equal(typeof counter.late, 'boolean');
    assert.equal(counter.consecutive_failures, 0);
    assert.ok('lease_holder' in counter);
  });

  it('shows /cron/status to an admin session logged in over HTTP, and refuses a plain user with 403', async () => {
    await createUser(t, { email: 'status-admin@example.com', password: 'status admin pw', role: 'admin' });
    await createUser(t, { email: 'status-user@example.com', password: 'status user pw' });
    const admin = await loggedInClient(t, 'status-admin@example.com', 'status admin pw');
    const byCookie = await admin.get<{ ok: boolean; jobs: Array<{ job: string }> }>('/cron/status');
    assert.equal(byCookie.status, 200, byCookie.text);
    assert.ok(byCookie.body.jobs.some((job) => job.job === 'flush-expired-tokens'));
    const token = admin.cookie('access_token') as string;
    const byBearer = await http.get('/cron/status', { cookies: false, headers: { authorization: `Bearer ${token}` } });
    assert.equal(byBearer.status, 200, 'an admin access token as Bearer');
    const user = await loggedInClient(t, 'status-user@example.com', 'status user pw');
    const refused = await user.get<ErrorBody>('/cron/status');
    assert.equal(refused.status, 403);
    assert.equal(errorCode(refused), 'FORBIDDEN');
  });

  it('exposes curfew_ metrics: runs by job and status, duration, late and last success, refusals by code', async () => {
    const metrics = await http.get('/metrics', { cookies: false });
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers.get('content-type')), /text\/plain/);
    const text = metrics.text;
    const expected = [
      /curfew_job_runs_total\{job="test-counter",status="ok",trigger="http"\} \d+/,
      /curfew_job_duration_seconds_bucket\{le="[^"]+",job="test-counter",status="ok"\}/,
      /curfew_job_late\{job="test-counter"\} [01]/,
      /curfew_job_last_success_timestamp_seconds\{job="test-counter"\} \d+/,
      /curfew_trigger_rejections_total\{code="CRON_UNAUTHORIZED"\} \d+/,
    ];
    for (const pattern of expected) assert.ok(pattern.test(text), `missing: ${pattern.source}`);
    assert.ok(!text.includes(SECRET));
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN: 'metrics-token-0123456789' } });
  });
  after(async () => t.stop());

  it('requires the bearer token', async () => {
    const http = new HttpClient(t.url);
    const denied = await http.get<ErrorBody>('/metrics');
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    const wrong = await http.get('/metrics', { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const ok = await http.get('/metrics', { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /curfew_job_runs_total/);
  });
});
