import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { defineJob } from '../../src/jobs/define.js';
import { firedBy } from '../../src/jobs/history.js';
import type { DefaultJobsService } from '../../src/jobs/service.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, loggedInClient, type ErrorBody } from '../auth/support.js';

const PASSWORD = 'admin overview password long';
const START = Date.UTC(2026, 4, 5, 10, 0, 0);
const MINUTE = 60_000;

interface Overview {
  now: string;
  last_cron_run: { at: string; job: string; run_id: number; trigger: string; fired_by: string; caller_ip: string | null } | null;
  late_jobs: Array<{ job: string; late_by_seconds: number; late_after_seconds: number }>;
  failing_jobs: Array<{ job: string; consecutive_failures: number; last_error: string | null }>;
  paused_jobs: string[];
  backlog: { due: number; oldest_due_at: string | null; oldest_age_seconds: number | null; missed_slots_24h: number };
  online_users: number;
  live_sessions: number;
  unknown_sends: { sequence: number; outbox: number };
}

const extraJobs = () => [
  defineJob({ name: 'test-ok', description: 'TEST ONLY', schedule: '* * * * *', run: async () => ({ done: 1 }) }),
  defineJob({ name: 'test-fail', description: 'TEST ONLY', schedule: '0 0 1 1 *', enabled: false, run: async () => Promise.reject(new Error('disk on fire')) }),
];

describe('admin overview: last cron run and who fired it, late/failing/paused jobs, backlog, online users, live sessions', () => {
  const clock = new TestClock(START);
  let t: TestApp;
  let jobs: DefaultJobsService;
  const admin = async () => loggedInClient(t, 'root@example.com', PASSWORD);
  const overview = async () => {
    const response = await (await admin()).get<Overview>('/api/v1/admin/overview/');
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  before(async () => {
    t = await startTestApp({ clock, extraJobs });
    jobs = t.app.services.jobs as DefaultJobsService;
    await createUser(t, { email: 'root@example.com', password: PASSWORD, role: 'admin' });
    await createUser(t, { email: 'ann@example.com', password: PASSWORD });
  });
  after(async () => t.stop());

  it('a fresh install: nothing fired, nothing late, failing or paused; the admin\'s own session is live', async () => {
    const body = await overview();
    assert.equal(body.now, new Date(START).toISOString());
    assert.equal(body.last_cron_run, null);
    assert.deepEqual([body.late_jobs, body.failing_jobs, body.paused_jobs], [[], [], []]);
    assert.deepEqual(body.backlog, { due: 0, oldest_due_at: null, oldest_age_seconds: null, missed_slots_24h: 0 });
    assert.deepEqual(body.unknown_sends, { sequence: 0, outbox: 0 });
    assert.equal(body.live_sessions, 1);
    assert.equal(body.online_users, 0);
  });

  it('last_cron_run follows the newest real run: outside caller, CLI, scheduler; a dry run does not count', async () => {
    clock.advance(5000);
    // /cron/run: every job at once, the daily ones as catch-up (their 00:00 slot is 10 h old); all carry the request.
    const due = await jobs.runDue('http', { ip: '203.0.113.5', requestId: 'req-1' });
    assert.equal(due.busy, false);
    let last = (await overview()).last_cron_run;
    assert.deepEqual([last?.fired_by, last?.caller_ip, last?.at], ['outside caller', '203.0.113.5', new Date(START + 5000).toISOString()]);
    assert.ok(['http', 'catch-up'].includes(last?.trigger ?? ''), last?.trigger);

    clock.advance(1000);
    const outside = await jobs.runJob('test-ok', { dryRun: false, trigger: 'http', caller: { ip: '203.0.113.6', requestId: 'req-2' } });
    last = (await overview()).last_cron_run;
    assert.deepEqual([last?.job, last?.run_id, last?.trigger, last?.fired_by, last?.caller_ip], ['test-ok', outside.id, 'http', 'outside caller', '203.0.113.6']);

    clock.advance(1000);
    const cli = await jobs.runJob('test-ok', { dryRun: false, trigger: 'cli', caller: {} });
    last = (await overview()).last_cron_run;
    assert.deepEqual([last?.job, last?.run_id, last?.fired_by, last?.caller_ip], ['test-ok', cli.id, 'CLI', null]);

    clock.advance(MINUTE);
    await jobs.runDueJob(jobs.registry.get('test-ok'), 'schedule', {});
    last = (await overview()).last_cron_run;
    assert.deepEqual([last?.job, last?.trigger, last?.fired_by], ['test-ok', 'schedule', 'scheduler']);
    const scheduledId = last?.run_id;

    clock.advance(1000);
    await jobs.runJob('test-ok', { dryRun: true, trigger: 'http', caller: {} });
    assert.equal((await overview()).last_cron_run?.run_id, scheduledId, 'a dry run is not a cron run');
  });

  it('failing and paused jobs; missed slots in the last 24 h; late jobs with late_by_seconds from the injected clock', async () => {
    await jobs.runJob('test-fail', { dryRun: false, trigger: 'cli', caller: {} });
    await jobs.pause('test-ok', 'root@example.com');
    let body = await overview();
    assert.deepEqual(body.failing_jobs, [{ job: 'test-fail', consecutive_failures: 1, last_error: 'disk on fire' }]);
    assert.deepEqual(body.paused_jobs, ['test-ok']);
    await jobs.resume('test-ok', 'root@example.com');

    clock.advance(5 * MINUTE);
    await jobs.runDue('http', {});
    const missed = await t.app.services.storage.db
      .selectFrom('cron_runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'missed')
      .executeTakeFirstOrThrow();
    body = await overview();
    assert.ok(Number(missed.n) > 0, 'slots were missed while nothing fired');
    assert.equal(body.backlog.missed_slots_24h, Number(missed.n));

    clock.advance(11 * MINUTE);
    body = await overview();
    const late = body.late_jobs.find((job) => job.job === 'test-ok');
    assert.ok(late, JSON.stringify(body.late_jobs));
    assert.equal(late.late_after_seconds, 600);
    assert.equal(late.late_by_seconds, 68, 'last success: the 10:06 slot, run at 10:06:08; now 10:17:08; threshold 10:16:00');
    assert.ok(!body.late_jobs.some((job) => job.job === 'test-fail'), 'a disabled job is never late');
    clock.advance(25 * 3_600_000);
    assert.equal((await overview()).backlog.missed_slots_24h, 0, 'older than 24 h');
  });

  it('online users and live sessions come from presence and sessions', async () => {
    const ann = await createUser(t, { email: 'bea@example.com', password: PASSWORD });
    const before = await overview();
    const connection = await t.app.services.presence.connect(Number(ann.id), { send: () => undefined });
    await loggedInClient(t, 'bea@example.com', PASSWORD);
    const after = await overview();
    assert.equal(after.online_users, before.online_users + 1);
    assert.equal(after.live_sessions, before.live_sessions + 2, 'bea and the admin signed in again');
    await connection.close();
  });

  it('fired_by: schedule → scheduler, http → outside caller, cli → CLI, console → console, catch-up by who carried a request', () => {
    assert.deepEqual(
      [firedBy('schedule'), firedBy('http'), firedBy('cli'), firedBy('console'), firedBy('catch-up'), firedBy('catch-up', 'req-9')],
      ['scheduler', 'outside caller', 'CLI', 'console', 'scheduler', 'outside caller'],
    );
  });

  it('admins only', async () => {
    const user = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const forbidden = await user.get<ErrorBody>('/api/v1/admin/overview/');
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.code, 'FORBIDDEN');
    assert.equal((await new HttpClient(t.url).get('/api/v1/admin/overview/')).status, 401);
    assert.equal((await (await admin()).get('/api/v1/admin/overview/?x=1')).status, 400, 'it takes no query parameters');
  });
});
