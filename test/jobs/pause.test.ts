import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { loadConfig, ConfigError } from '../../src/config/index.js';
import { AlertMonitor } from '../../src/alerts/monitor.js';
import type { AlertEvent } from '../../src/alerts/types.js';
import { isAppError } from '../../src/errors.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { InProcessScheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { runCli } from '../cli/support.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { job, openJobsFixture, type JobsFixture } from './fixture.js';

const START = Date.UTC(2026, 2, 2, 10, 0, 0);
const MINUTE = 60_000;
const silent = createLogger({ level: 'silent' });

describe('pause and resume (persisted, every instance)', () => {
  const clock = new TestClock(START);
  let database: TestDatabase;
  let a: JobsFixture;
  let b: JobsFixture;
  const ran: Array<{ instance: string; slot: number | null }> = [];
  const definitions = (instance: string) => [
    job({ name: 'tick', catchUp: { kind: 'all', windowMs: 86_400_000 }, run: async ({ scheduledFor }) => (ran.push({ instance, slot: scheduledFor }), { n: 1 }) }),
    job({ name: 'other', run: async () => ({ n: 1 }) }),
  ];
  before(async () => {
    database = await createTestDatabase();
    a = await openJobsFixture({ clock, database, instanceId: 'a', definitions: definitions('a') });
    b = await openJobsFixture({ clock, database, instanceId: 'b', definitions: definitions('b') });
  });
  after(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });

  const tick = async (fixture: JobsFixture) => new InProcessScheduler({ service: fixture.service, clock, logger: silent }).tick();
  const rows = async () => (await a.ledger.listByJob('tick', 1000)).filter((row) => row.status !== 'skipped');

  it('runs on schedule before the pause', async () => {
    await tick(a);
    assert.equal((await rows()).length, 1);
  });

  it('a pause on one instance is honoured by the other instance, /cron/run and outside callers; an admin run and the CLI still run it', async () => {
    const status = await a.service.pause('tick', 'ops@example.com', '  disk full  ');
    assert.deepEqual([status.paused, status.pausedAt, status.pausedBy, status.pauseReason], [true, START, 'ops@example.com', 'disk full']);
    const before = (await rows()).length;
    for (let i = 0; i < 30; i += 1) {
      clock.advance(MINUTE);
      await tick(b);
      await tick(a);
    }
    const due = await b.service.runDue('http', { ip: '203.0.113.9' });
    assert.equal(due.busy, false);
    const paused = due.busy ? undefined : due.result.runs.find((run) => run.job === 'tick');
    assert.deepEqual(paused && [paused.id, paused.status, paused.reason], [null, 'skipped', 'paused'], 'reported to the caller, not recorded');
    assert.equal((await rows()).length, before, 'nothing ran or was recorded as missed while paused');
    assert.ok((await b.ledger.listByJob('other', 100)).length > 0, 'other jobs kept running');

    await assert.rejects(b.service.runJob('tick', { dryRun: false, trigger: 'http', caller: {} }), (e) => isAppError(e) && e.code === 'JOB_PAUSED' && /ops@example\.com/.test(e.message));
    await assert.rejects(b.service.runJob('tick', { dryRun: true, trigger: 'http', caller: {} }), (e) => isAppError(e) && e.code === 'JOB_PAUSED');
    assert.equal((await b.service.runJob('tick', { dryRun: false, trigger: 'http', caller: {}, allowPaused: true })).status, 'ok', "an admin's Run now");
    assert.equal((await b.service.runJob('tick', { dryRun: true, trigger: 'cli', caller: {} })).status, 'ok', 'the CLI');

    const [seen] = (await b.service.status()).filter((s) => s.job === 'tick');
    assert.equal(seen?.paused, true, 'the other instance reports the pause');
    assert.equal(seen?.late, false, 'a paused job is never late');
    assert.equal(seen?.lateBySeconds, 0);
  });

  it('pausing twice keeps the first pause; unknown jobs are JOB_NOT_FOUND', async () => {
    const again = await b.service.pause('tick', 'someone-else');
    assert.equal(again.pausedBy, 'ops@example.com');
    assert.equal(again.pauseReason, 'disk full');
    await assert.rejects(a.service.pause('nope', 'x'), (e) => isAppError(e) && e.code === 'JOB_NOT_FOUND');
    await assert.rejects(a.service.resume('nope', 'x'), (e) => isAppError(e) && e.code === 'JOB_NOT_FOUND');
  });

  it('on resume, catch-up (all:24h here) starts from the resume time: no flood of runs for the paused slots', async () => {
    clock.advance(20_000);
    const resumedAt = clock.now();
    const status = await a.service.resume('tick', 'ops@example.com');
    assert.deepEqual([status.paused, status.pausedAt, status.pausedBy, status.late], [false, null, null, false]);
    const before = (await rows()).length;
    await tick(a);
    await tick(b);
    assert.equal((await rows()).length, before, 'the slot before the resume is not run');
    clock.advance(MINUTE);
    await tick(b);
    await tick(a);
    const after = await rows();
    assert.equal(after.length, before + 1, 'one run: the first slot after the resume');
    assert.ok((after[0]?.scheduled_for ?? 0) > resumedAt);
    assert.equal(after.filter((row) => row.status === 'missed').length, 0, 'no missed rows for the paused period');
  });
});

describe('lateness threshold (JOB_<NAME>_LATE_AFTER, CRON_LATE_AFTER) drives status', () => {
  const clock = new TestClock(START);
  let fixture: JobsFixture;
  before(async () => {
    fixture = await openJobsFixture({
      clock,
      definitions: [job({ name: 'minutely', run: async () => ({}) }), job({ name: 'daily', schedule: '0 2 * * *', run: async () => ({}) }), job({ name: 'custom', run: async () => ({}) })],
      overrides: { custom: { LATE_AFTER: '3m' } },
    });
  });
  after(async () => fixture.close());

  const get = async (name: string) => (await fixture.service.status()).find((s) => s.job === name);

  it('defaults: 10m every minute, 25h daily; the per-job variable wins; schedule in words', async () => {
    assert.equal((await get('minutely'))?.lateAfterMs, 10 * MINUTE);
    assert.equal((await get('daily'))?.lateAfterMs, 25 * 60 * MINUTE);
    assert.equal((await get('daily'))?.scheduleText, 'At 02:00 AM');
    assert.equal((await get('custom'))?.lateAfterMs, 3 * MINUTE);
  });

  it('late_by_seconds follows the injected clock from the last successful slot', async () => {
    await fixture.service.runDueJob(fixture.service.registry.get('minutely'), 'schedule', {}, clock.now());
    clock.advance(10 * MINUTE);
    assert.deepEqual([(await get('minutely'))?.late, (await get('minutely'))?.lateBySeconds], [false, 0]);
    clock.advance(95_000);
    assert.deepEqual([(await get('minutely'))?.late, (await get('minutely'))?.lateBySeconds], [true, 95]);
    await fixture.service.pause('minutely', 'ops');
    assert.deepEqual([(await get('minutely'))?.late, (await get('minutely'))?.lateBySeconds], [false, 0], 'paused: not late');
    await fixture.service.resume('minutely', 'ops');
    assert.equal((await get('minutely'))?.late, false, 'counted from the resume');
    clock.advance(10 * MINUTE + 1000);
    assert.deepEqual([(await get('minutely'))?.late, (await get('minutely'))?.lateBySeconds], [true, 1]);
  });

  it('the late alert follows the same rule: fires with late_by_seconds, resolves when the job is paused', async () => {
    const open = new Set<string>();
    const events: AlertEvent[] = [];
    const monitor = new AlertMonitor({
      clock,
      logger: silent,
      status: () => fixture.service.status(),
      instanceId: 'a',
      store: {
        open: async (job, kind) => !open.has(`${job}:${kind}`) && Boolean(open.add(`${job}:${kind}`)),
        close: async (job, kind) => open.delete(`${job}:${kind}`),
      },
      sinks: [{ name: 'memory', send: async (event) => void events.push(event) }],
    });
    await monitor.check();
    const fired = events.find((event) => event.job === 'minutely' && event.type === 'job.late');
    assert.deepEqual([fired?.state, fired?.details.late_by_seconds, fired?.details.late_after_seconds], ['firing', 1, 600]);
    await fixture.service.pause('minutely', 'ops');
    await monitor.check();
    assert.equal(events.filter((event) => event.job === 'minutely').at(-1)?.state, 'resolved', 'a paused job raises no late alert');
    clock.advance(60 * MINUTE);
    await monitor.check();
    assert.equal(events.filter((event) => event.job === 'minutely' && event.state === 'firing').length, 1);
    await fixture.service.resume('minutely', 'ops');
  });
});

describe('lateness configuration errors name the setting and the fix', () => {
  const load = (env: Record<string, string>) => loadConfig({ env: { ...BASE_TEST_ENV, ...env }, secretKey: TEST_SECRET_KEY });
  it('CRON_LATE_AFTER must be a duration of at least a minute', () => {
    assert.throws(() => load({ CRON_LATE_AFTER: 'soon' }), (e) => e instanceof ConfigError && /CRON_LATE_AFTER/.test(e.message) && /10m/.test(e.message));
    assert.equal(load({ CRON_LATE_AFTER: '5m' }).scheduler.lateAfterMs, 5 * MINUTE);
    assert.equal(load({}).scheduler.lateAfterMs, 10 * MINUTE);
  });
  it('JOB_<NAME>_LATE_AFTER must parse and be longer than the period', () => {
    const open = (value: string) => new JobRegistry([job({ name: 'daily', schedule: '0 2 * * *', run: async () => ({}) })], { daily: { LATE_AFTER: value } });
    assert.throws(() => open('12h'), (e) => e instanceof ConfigError && /JOB_DAILY_LATE_AFTER/.test(e.message) && /longer than the job's period \(1d/.test(e.message) && /e\.g\. 1d1h/.test(e.message));
    assert.throws(() => open('later'), (e) => e instanceof ConfigError && /JOB_DAILY_LATE_AFTER/.test(e.message));
    assert.equal(open('26h').get('daily').lateAfterMs, 26 * 60 * MINUTE);
  });
});

describe('curfew jobs pause | resume | list', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  before(async () => {
    database = await createTestDatabase();
    env = { ...BASE_TEST_ENV, ...database.env, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent' };
  });
  after(async () => database.drop());

  it('pauses with a reason, lists it paused, resumes; an unknown job exits 64', async () => {
    const paused = await runCli(['jobs', 'pause', 'flush-expired-tokens', '--reason', 'restore running'], { env });
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /^flush-expired-tokens: paused \S+ by cli(:\S+)?: restore running$/m);
    const listed = await runCli(['jobs', 'list'], { env });
    assert.match(listed.stdout, /^JOB\s+SCHEDULE\s+ZONE\s+ENABLED\s+PAUSED\s+LATE\s+NEXT SLOT\s+NOTE$/m);
    assert.match(listed.stdout, /^flush-expired-tokens\s+0 0 \* \* \*\s+UTC\s+yes\s+PAUSED\s+no\s+.*paused .*restore running$/m);
    assert.match(listed.stdout, /^clear-expired-sessions\s+0 \* \* \* \*\s+UTC\s+yes\s+no\s+no\s/m);
    const resumed = await runCli(['jobs', 'resume', 'flush-expired-tokens'], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^flush-expired-tokens: not paused$/m);
    const unknown = await runCli(['jobs', 'pause', 'no-such-job'], { env });
    assert.equal(unknown.code, 64);
    assert.match(unknown.stderr, /no job named "no-such-job"/);
  });
});
