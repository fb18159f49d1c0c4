import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/app.js';
import { TestClock } from '../../src/clock.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { InProcessScheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { BASE_TEST_ENV, LogCapture, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually, job, openJobsFixture } from './fixture.js';

const START = Date.UTC(2026, 0, 1, 10, 0, 0);

describe('in-process scheduler', () => {
  it('tick() decides with the injected clock, records each slot once, and records missed slots', async () => {
    const clock = new TestClock(START);
    const ran: number[] = [];
    const fixture = await openJobsFixture({
      clock,
      definitions: [
        job({ name: 'minutely', run: async ({ scheduledFor }) => (ran.push(scheduledFor ?? -1), {}) }),
        job({ name: 'disabled', enabled: false, run: async () => (ran.push(-2), {}) }),
      ],
    });
    const scheduler = new InProcessScheduler({ service: fixture.service, clock, logger: createLogger({ level: 'silent' }) });
    try {
      await scheduler.tick();
      await scheduler.tick();
      assert.deepEqual(ran, [START], 'the 10:00 slot runs once, however often we tick');
      clock.advance(30_000);
      await scheduler.tick();
      assert.deepEqual(ran, [START], 'nothing due mid-minute');
      clock.set(START + 5 * 60_000);
      await scheduler.tick();
      assert.deepEqual(ran, [START, START + 5 * 60_000]);
      const rows = await fixture.ledger.listByJob('minutely');
      assert.deepEqual(rows.filter((r) => r.status === 'missed').map((r) => (Number(r.scheduled_for) - START) / 60_000).sort(), [1, 2, 3, 4]);
      assert.ok(rows.filter((r) => r.status === 'ok').every((r) => r.trigger === 'schedule'));
    } finally {
      await scheduler.stop();
      await fixture.close();
    }
  });

  it('a slot that comes due while the job still runs here is skipped (overlap skip); stop() drains the run', async () => {
    const clock = new TestClock(START);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let finished = 0;
    const fixture = await openJobsFixture({ clock, definitions: [job({ name: 'slow', run: async () => (await gate, ++finished, {}) })] });
    const scheduler = new InProcessScheduler({ service: fixture.service, clock, logger: createLogger({ level: 'silent' }) });
    try {
      const first = scheduler.tick();
      // Wait for the running row, not only isRunning(): that is true before the insert lands, and on a loaded
      // PostgreSQL the next tick's reads could overtake it (seen once: the running row was missing).
      await eventually(async () => fixture.service.isRunning('slow') && (await fixture.ledger.listByJob('slow')).length === 1);
      clock.advance(60_000);
      await scheduler.tick();
      const rows = await fixture.ledger.listByJob('slow');
      assert.deepEqual(rows.map((r) => [r.status, Number(r.scheduled_for) - START]), [['skipped', 60_000], ['running', 0]]);
      assert.match(rows[0]?.output ?? '', /already running on this instance/);
      const stopping = scheduler.stop();
      release();
      await stopping;
      await first;
      assert.equal(finished, 1);
      assert.equal((await fixture.ledger.listByJob('slow')).find((r) => r.scheduled_for === START)?.status, 'ok');
    } finally {
      release();
      await fixture.close();
    }
  });
});

describe('concurrent schedule runs on two instances', () => {
  it('stop() refuses runs a tick already in flight would start: nothing runs after the stop began', async () => {
    const clock = new TestClock(START);
    let ran = 0;
    const fixture = await openJobsFixture({ clock, definitions: [job({ name: 'late-tick', run: async () => (++ran, {}) })] });
    const scheduler = new InProcessScheduler({ service: fixture.service, clock, logger: createLogger({ level: 'silent' }) });
    // Hold the tick between its decision to look at the job and the run itself (a slow database, a loaded machine).
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let held = false;
    const runDueJob = fixture.service.runDueJob.bind(fixture.service);
    fixture.service.runDueJob = async (...args) => {
      held = true;
      await gate;
      return runDueJob(...args);
    };
    try {
      scheduler.start();
      await eventually(() => held);
      const stopping = scheduler.stop();
      open();
      await stopping;
      assert.equal(ran, 0, 'the held tick started no run once stop() began');
      assert.deepEqual(await fixture.ledger.listByJob('late-tick'), [], 'and wrote no ledger row');
    } finally {
      open();
      await fixture.close();
    }
  });

  it('50 concurrent runDue calls run the due slot exactly once; the rest are busy or find it recorded', async () => {
    const clock = new TestClock(START);
    let runs = 0;
    const definitions = [job({ name: 'once', run: async () => (++runs, {}) })];
    const database = await createTestDatabase();
    const a = await openJobsFixture({ clock, database, instanceId: 'a', definitions });
    const b = await openJobsFixture({ clock, database, instanceId: 'b', definitions });
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).service.runDue('http', {})));
      const served = results.filter((r) => !r.busy);
      assert.ok(served.length >= 1);
      assert.equal(runs, 1, JSON.stringify(await a.ledger.listByJob('once')));
      const okRows = (await a.ledger.listByJob('once')).filter((r) => r.status === 'ok');
      assert.deepEqual(okRows.map((r) => r.scheduled_for), [START]);
      assert.equal((await a.ledger.listByJob('schedule-run')).length, served.length, 'each served call is one schedule-run row');
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});

describe('prune-cron-runs and configuration', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  const configFor = (env: Record<string, string>) =>
    loadConfig({ env: { ...BASE_TEST_ENV, ...database.env, ...env }, secretKey: TEST_SECRET_KEY });

  it('prunes ledger rows past the retention in bounded batches; a dry run only counts', async () => {
    const clock = new TestClock(START);
    const app = await createApp(configFor({ CRON_RUNS_RETENTION_DAYS: '30' }), { clock, logDestination: new LogCapture() });
    await app.start({ listen: false, background: false });
    try {
      const old = START - 31 * 86_400_000;
      const { db } = app.services.storage;
      const rows = Array.from({ length: 2500 }, (_, i) => ({ job: 'x', scheduled_for: old + i, trigger: 'schedule' as const, status: 'ok' as const, started_at: old + i, counts: '{}', instance_id: 'i', dry_run: 0 }));
      for (let i = 0; i < rows.length; i += 500) await db.insertInto('cron_runs').values(rows.slice(i, i + 500)).execute();
      await db.insertInto('cron_runs').values({ job: 'x', scheduled_for: START, trigger: 'schedule', status: 'ok', started_at: START - 86_400_000, counts: '{}', instance_id: 'i', dry_run: 0 }).execute();
      const dry = await app.services.jobs.runJob('prune-cron-runs', { dryRun: true, trigger: 'cli', caller: {} });
      assert.deepEqual(dry.counts, { deleted: 0, would_delete: 2500 });
      const real = await app.services.jobs.runJob('prune-cron-runs', { dryRun: false, trigger: 'cli', caller: {} });
      assert.deepEqual([real.status, real.error, real.counts.deleted], ['ok', undefined, 2500]);
      const left = await db.selectFrom('cron_runs').select('job').where('job', '=', 'x').execute();
      assert.equal(left.length, 1, 'the recent row is kept');
    } finally {
      await app.stop();
    }
  });

  it('applies JOB_* overrides', async () => {
    const app = await createApp(
      configFor({ JOB_LOGOUT_ALL_USERS_ENABLED: 'true', JOB_LOGOUT_ALL_USERS_SCHEDULE: '0 3 * * *', JOB_LOGOUT_ALL_USERS_TZ: 'Europe/Berlin', JOB_SEQUENCE_TICK_OVERLAP: 'queue-one', JOB_SEQUENCE_TICK_CATCH_UP: 'all:2h', JOB_SEQUENCE_TICK_TIMEOUT: '30s', JOB_SEQUENCE_TICK_LEASE_TTL: '5m', JOB_SEQUENCE_TICK_RETRIES: '3' }),
      { logDestination: new LogCapture() },
    );
    try {
      const byName = new Map(app.services.jobs.definitions().map((d) => [d.name, d]));
      const logout = byName.get('logout-all-users');
      assert.deepEqual([logout?.enabled, logout?.schedule, logout?.timezone], [true, '0 3 * * *', 'Europe/Berlin']);
      const tick = byName.get('sequence-tick');
      assert.deepEqual([tick?.overlap, tick?.catchUp, tick?.timeoutMs, tick?.leaseTtlMs, tick?.retries.max], ['queue-one', { kind: 'all', windowMs: 7_200_000 }, 30_000, 300_000, 3]);
      assert.equal(logout?.placeholder, undefined, 'logout-all-users has its real body');
      assert.equal(tick?.placeholder, undefined, 'sequence-tick has its real body (issue 10)');
    } finally {
      await app.stop();
    }
  });

  const bad: Array<[string, Record<string, string>, string]> = [
    ['a bad cron expression', { JOB_LOGOUT_ALL_USERS_SCHEDULE: '0 2 * *' }, 'JOB_LOGOUT_ALL_USERS_SCHEDULE'],
    ['an unknown zone', { JOB_FLUSH_EXPIRED_TOKENS_TZ: 'Europe/Atlantis' }, 'JOB_FLUSH_EXPIRED_TOKENS_TZ'],
    ['an unknown job', { JOB_FLUSH_EVERYTHING_ENABLED: 'true' }, 'JOB_FLUSH_EVERYTHING_ENABLED'],
    ['a bad flag', { JOB_SEQUENCE_TICK_ENABLED: 'perhaps' }, 'JOB_SEQUENCE_TICK_ENABLED'],
    ['a bad overlap', { JOB_SEQUENCE_TICK_OVERLAP: 'parallel' }, 'JOB_SEQUENCE_TICK_OVERLAP'],
    ['a bad catch-up', { JOB_SEQUENCE_TICK_CATCH_UP: 'some' }, 'JOB_SEQUENCE_TICK_CATCH_UP'],
    ['a bad timeout', { JOB_SEQUENCE_TICK_TIMEOUT: 'soon' }, 'JOB_SEQUENCE_TICK_TIMEOUT'],
    ['a too short lease', { JOB_SEQUENCE_TICK_LEASE_TTL: '10ms' }, 'JOB_SEQUENCE_TICK_LEASE_TTL'],
    ['bad retries', { JOB_SEQUENCE_TICK_RETRIES: '-1' }, 'JOB_SEQUENCE_TICK_RETRIES'],
    ['an unknown DST policy', { JOB_LOGOUT_ALL_USERS_DST: 'twice' }, 'JOB_LOGOUT_ALL_USERS_DST'],
  ];
  for (const [name, env, setting] of bad) {
    it(`createApp refuses ${name}, naming ${setting}`, async () => {
      await assert.rejects(createApp(configFor(env), { logDestination: new LogCapture() }), (error: unknown) => error instanceof ConfigError && error.setting === setting);
    });
  }

  it('test-only jobs live in test/ only: no setting registers them (the old CURFEW_TEST_JOBS does nothing)', async () => {
    const app = await createApp(configFor({ CURFEW_TEST_JOBS: '1' }), { logDestination: new LogCapture() });
    try {
      const names = app.services.jobs.definitions().map((definition) => definition.name);
      assert.ok(!names.some((name) => name.startsWith('test-')), names.join(', '));
    } finally {
      await app.stop();
    }
    const sources = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const mentions = sources.filter((file) => /CURFEW_TEST_JOBS|test-counter|test-slow/.test(readFileSync(join('src', file), 'utf8')));
    assert.deepEqual(mentions, [], 'no src/ file defines or enables test-only jobs');
  });
});
