import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { TestClock } from '../../src/clock.js';
import { defineJob } from '../../src/jobs/define.js';
import type { DefaultJobsService } from '../../src/jobs/service.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, loggedInClient, type ErrorBody } from '../auth/support.js';

const PASSWORD = 'admin runs password long';
const START = Date.UTC(2026, 4, 5, 10, 0, 0);

interface RunItem {
  id: number;
  job: string;
  scheduled_for: string | null;
  trigger: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  counts: Record<string, number>;
  dry_run: boolean;
  instance_id: string;
  lateness_ms: number | null;
  error: string | null;
  output_preview: string | null;
  output_truncated: boolean;
}
interface RunDetail extends RunItem {
  output: string | null;
  output_offset: number;
  output_length: number;
  error_detail: string | null;
  caller_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  params: Record<string, unknown> | null;
}
type Page = { runs: RunItem[]; next_cursor: string | null };

const longCounts = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`counter_number_${String(i).padStart(2, '0')}`, i]));
const extraJobs = () => [
  defineJob({ name: 'test-ok', description: 'TEST ONLY', schedule: '* * * * *', run: async () => ({ done: 1 }) }),
  defineJob({
    name: 'test-fail',
    description: 'TEST ONLY',
    schedule: '0 0 1 1 *',
    run: async () => {
      throw new Error(`first line ${'x'.repeat(400)}\nsecond line`, { cause: new Error('the root cause') });
    },
  }),
  defineJob({ name: 'test-long', description: 'TEST ONLY', schedule: '0 0 1 1 *', run: async () => longCounts }),
];

describe('admin run history: filters, keyset paging, one run in full', () => {
  const clock = new TestClock(START);
  let t: TestApp;
  let admin: HttpClient;
  let user: HttpClient;
  const ids: Record<string, number> = {};
  before(async () => {
    t = await startTestApp({ clock, extraJobs });
    const { jobs } = t.app.services;
    // 10:00 .. 10:04 on schedule, late by 5 s each
    for (let i = 0; i < 5; i += 1) {
      clock.advance(5000);
      const service = jobs as DefaultJobsService;
      await service.runDueJob(service.registry.get('test-ok'), 'schedule', {});
      clock.advance(55_000);
    }
    ids.fail = Number((await jobs.runJob('test-fail', { dryRun: false, trigger: 'http', caller: { ip: '198.51.100.7', userAgent: 'cron-site/2.0', requestId: 'req-fail-1' } })).id);
    clock.advance(1000);
    ids.long = Number((await jobs.runJob('test-long', { dryRun: false, trigger: 'cli', caller: { userAgent: 'curfew-cli' } })).id);
    clock.advance(1000);
    ids.dry = Number((await jobs.runJob('logout-all-users', { dryRun: true, trigger: 'cli', caller: {}, params: { excludeRoles: ['admin'] } })).id);
    clock.advance(1000);
    await createUser(t, { email: 'root@example.com', password: PASSWORD, role: 'admin' });
    await createUser(t, { email: 'ann@example.com', password: PASSWORD });
    admin = await loggedInClient(t, 'root@example.com', PASSWORD);
    user = await loggedInClient(t, 'ann@example.com', PASSWORD);
  });
  after(async () => t.stop());

  const page = async (query: string) => {
    const response = await admin.get<Page>(`/api/v1/admin/runs/${query}`);
    assert.equal(response.status, 200, `${query}: ${response.text}`);
    return response.body;
  };

  it('lists newest first with every field; lateness for slots, null for ad-hoc runs; error first line; output preview', async () => {
    const { runs, next_cursor } = await page('');
    assert.equal(next_cursor, null);
    assert.deepEqual(runs.map((r) => r.job), ['logout-all-users', 'test-long', 'test-fail', 'test-ok', 'test-ok', 'test-ok', 'test-ok', 'test-ok']);
    const scheduled = runs[3] as RunItem;
    assert.deepEqual(
      { ...scheduled, id: 0, instance_id: '' },
      {
        id: 0, job: 'test-ok', scheduled_for: new Date(START + 4 * 60_000).toISOString(), trigger: 'schedule', status: 'ok', started_at: new Date(START + 4 * 60_000 + 5000).toISOString(),
        finished_at: new Date(START + 4 * 60_000 + 5000).toISOString(), duration_ms: 0, counts: { done: 1 }, dry_run: false, instance_id: '', lateness_ms: 5000, error: null,
        output_preview: 'done=1', output_truncated: false,
      },
    );
    const failed = runs.find((r) => r.id === ids.fail) as RunItem;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.lateness_ms, null);
    assert.ok(failed.error?.startsWith('first line xxx'));
    assert.ok((failed.error?.length ?? 0) <= 300 && !failed.error?.includes('second line'), 'first line only, at most 300 characters');
    const long = runs.find((r) => r.id === ids.long) as RunItem;
    assert.equal(long.output_preview?.length, 200);
    assert.equal(long.output_truncated, true);
    assert.equal(runs.find((r) => r.id === ids.dry)?.dry_run, true);
  });

  it('filters by job, status, trigger and time range', async () => {
    assert.equal((await page('?job=test-ok')).runs.length, 5);
    assert.deepEqual((await page('?status=failed')).runs.map((r) => r.id), [ids.fail]);
    assert.deepEqual((await page('?trigger=cli')).runs.map((r) => r.id), [ids.dry, ids.long]);
    assert.deepEqual((await page('?trigger=http&status=ok')).runs, []);
    const from = new Date(START + 2 * 60_000).toISOString();
    const to = new Date(START + 3 * 60_000 + 5000).toISOString();
    assert.deepEqual((await page(`?job=test-ok&from=${from}&to=${to}`)).runs.map((r) => r.scheduled_for), [new Date(START + 3 * 60_000).toISOString(), new Date(START + 2 * 60_000).toISOString()]);
  });

  it('pages with an opaque cursor until next_cursor is null, without gaps or repeats', async () => {
    const all = (await page('?limit=200')).runs.map((r) => r.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const next: Page = await page(`?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      seen.push(...next.runs.map((r) => r.id));
      cursor = next.next_cursor;
      pages += 1;
    } while (cursor !== null);
    assert.deepEqual(seen, all);
    assert.equal(pages, 3);
    const jobPage = await page('?job=test-ok&limit=2');
    const second = await page(`?job=test-ok&limit=2&cursor=${jobPage.next_cursor}`);
    assert.equal(second.runs.length, 2);
    assert.ok(second.runs.every((r) => r.job === 'test-ok'));
  });

  it('junk filters are 400 VALIDATION_FAILED, never 500', async () => {
    const junk = [
      '?job=no-such-job', '?job=', `?job=${'a'.repeat(101)}`, '?status=bogus', '?trigger=cron', '?from=yesterday', '?to=2026-13-45T99:00:00Z', '?from=2026-05-05',
      '?from=2026-05-06T00:00:00Z&to=2026-05-05T00:00:00Z', '?limit=0', '?limit=201', '?limit=abc', '?limit=-1', '?limit=1.5', '?cursor=not*a*cursor', `?cursor=${Buffer.from('12:x').toString('base64url')}`,
      `?cursor=${'A'.repeat(129)}`, '?other=1', '?status=ok&status=failed', '?job[]=x',
    ];
    for (const query of junk) {
      const response = await admin.get<ErrorBody>(`/api/v1/admin/runs/${query}`);
      assert.equal(response.status, 400, `${query}: ${response.text}`);
      assert.ok(['VALIDATION_FAILED', 'UNKNOWN_FIELD', 'BAD_REQUEST'].includes(response.body.error.code), `${query}: ${response.text}`);
    }
    for (const query of ['?output_offset=-1', '?output_limit=0', '?output_limit=65537', '?output_limit=x', '?x=1']) {
      assert.equal((await admin.get(`/api/v1/admin/runs/${ids.long}/${query}`)).status, 400, query);
    }
  });

  it('one run in full: whole error and its stack, caller, request id, params; output paged', async () => {
    const failed = await admin.get<RunDetail>(`/api/v1/admin/runs/${ids.fail}/`);
    assert.equal(failed.status, 200, failed.text);
    assert.match(failed.body.error ?? '', /^first line x+/);
    assert.match(failed.body.error_detail ?? '', /the root cause/);
    assert.deepEqual([failed.body.caller_ip, failed.body.user_agent, failed.body.request_id, failed.body.trigger], ['198.51.100.7', 'cron-site/2.0', 'req-fail-1', 'http']);
    assert.equal(failed.body.params, null);

    const whole = await admin.get<RunDetail>(`/api/v1/admin/runs/${ids.long}/`);
    const text = whole.body.output ?? '';
    assert.equal(whole.body.output_length, text.length);
    assert.ok(text.length > 200);
    assert.equal(whole.body.output_preview, text.slice(0, 200));
    const slice = await admin.get<RunDetail>(`/api/v1/admin/runs/${ids.long}/?output_offset=100&output_limit=50`);
    assert.deepEqual([slice.body.output, slice.body.output_offset, slice.body.output_length], [text.slice(100, 150), 100, text.length]);
    const past = await admin.get<RunDetail>(`/api/v1/admin/runs/${ids.long}/?output_offset=100000`);
    assert.equal(past.body.output, '');

    const dry = await admin.get<RunDetail>(`/api/v1/admin/runs/${ids.dry}/`);
    assert.deepEqual(dry.body.params, { excludeRoles: ['admin'] });

    const missing = await admin.get<ErrorBody>('/api/v1/admin/runs/999999/');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'RUN_NOT_FOUND');
    assert.equal((await admin.get('/api/v1/admin/runs/abc/')).status, 400);
  });

  it('admins only: a user gets 403, a visitor 401', async () => {
    for (const path of ['/api/v1/admin/runs/', `/api/v1/admin/runs/${ids.fail}/`]) {
      const forbidden = await user.get<ErrorBody>(path);
      assert.equal(forbidden.status, 403, path);
      assert.equal(forbidden.body.error.code, 'FORBIDDEN');
      assert.equal((await new HttpClient(t.url).get(path)).status, 401, path);
    }
  });

  it('the list query is served by an index (SQLite query plan)', async () => {
    if (t.app.config.database.kind !== 'sqlite') return;
    const { db } = t.app.services.storage;
    const plan = async (where: string) =>
      (await sql.raw<{ detail: string }>(`explain query plan select id from cron_runs ${where} order by started_at desc, id desc limit 51`).execute(db)).rows.map((row) => row.detail).join(' | ');
    const byJob = await plan("where job = 'test-ok' and started_at < 9999999999999");
    assert.match(byJob, /USING (COVERING )?INDEX cron_runs_job_started_idx/, byJob);
    assert.doesNotMatch(byJob, /TEMP B-TREE/, byJob);
    const all = await plan('');
    assert.match(all, /USING (COVERING )?INDEX cron_runs_started_at_idx/, all);
    assert.doesNotMatch(all, /TEMP B-TREE/, all);
  });
});
