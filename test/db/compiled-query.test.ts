import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { PrecompiledQuery } from '../../src/db/compiled-query.js';
import { CronRunsRepository } from '../../src/db/repositories/cron-runs.js';
import { JobControlsRepository } from '../../src/db/repositories/job-controls.js';
import { testEngine } from '../helpers/database.js';
import { openJobsFixture, type JobsFixture } from '../jobs/fixture.js';

const START = Date.UTC(2026, 2, 5, 10, 0, 0);

/** Issue 13 (a 30-day simulation in under a minute): the scheduler's hot statements are compiled once. */
describe(`statements compiled once, and the reads that replaced two statements by one (${testEngine()})`, () => {
  let fixture: JobsFixture;
  let ledger: CronRunsRepository;
  let controls: JobControlsRepository;
  before(async () => {
    fixture = await openJobsFixture({ clock: new TestClock(START), definitions: [] });
    ledger = new CronRunsRepository(fixture.storage);
    controls = new JobControlsRepository(fixture.storage);
  });
  after(() => fixture.close());

  const slot = (job: string, scheduledFor: number | null, status: 'ok' | 'failed' | 'timed_out' | 'missed', dryRun = false) => {
    const row = { job, scheduledFor, trigger: 'schedule' as const, status, startedAt: START, instanceId: 'a', dryRun, finishedAt: START };
    return scheduledFor === null ? ledger.insert(row) : ledger.insertSlot({ ...row, scheduledFor });
  };

  it('runs one SQL text with each call\'s values; constants of the query stay; undefined is refused', async () => {
    const query = new PrecompiledQuery(() => fixture.storage.db, (p: { job: string; from: number }) =>
      fixture.storage.db.selectFrom('cron_runs').select('scheduled_for').where('job', '=', p.job).where('status', '!=', 'missed').where('scheduled_for', '>=', p.from).orderBy('scheduled_for'),
    );
    await slot('p', 1_000, 'ok');
    await slot('p', 2_000, 'missed');
    await slot('p', 3_000, 'failed');
    await slot('q', 4_000, 'ok');
    const text = query.sql;
    assert.deepEqual((await query.execute({ job: 'p', from: 0 })).rows.map((row) => row.scheduled_for), [1_000, 3_000]);
    assert.deepEqual((await query.execute({ job: 'p', from: 2_000 })).rows.map((row) => row.scheduled_for), [3_000]);
    assert.deepEqual((await query.execute({ job: 'q', from: 0 })).rows.map((row) => row.scheduled_for), [4_000]);
    assert.equal(query.sql, text);
    await assert.rejects(query.execute({ job: undefined as unknown as string, from: 0 }), /parameter "job" is undefined/);
  });

  it('findWithLastSlot: the last recorded slot (ad-hoc rows have none) and the control row, as the two reads gave them', async () => {
    assert.deepEqual(await controls.findWithLastSlot('d'), { control: undefined, lastSlot: null });
    await slot('d', null, 'ok');
    assert.deepEqual(await controls.findWithLastSlot('d'), { control: undefined, lastSlot: null });
    await slot('d', 60_000, 'missed');
    await slot('d', 120_000, 'ok');
    assert.deepEqual(await controls.findWithLastSlot('d'), { control: undefined, lastSlot: await ledger.lastSlot('d') });
    assert.equal((await controls.findWithLastSlot('d')).lastSlot, 120_000);
    await controls.pause('d', START, 'cli:test', 'why');
    const { control, lastSlot } = await controls.findWithLastSlot('d');
    assert.deepEqual(control, await controls.find('d'));
    assert.equal(control?.paused, 1);
    assert.equal(lastSlot, 120_000);
  });

  it('failureStreak: failed and timed-out real runs since the latest real ok, at most the limit', async () => {
    assert.equal(await ledger.failureStreak('f', 100), 0);
    await slot('f', 1, 'failed');
    await slot('f', 2, 'timed_out');
    assert.equal(await ledger.failureStreak('f', 100), 2, 'never succeeded: every failure counts');
    await slot('f', 3, 'ok');
    assert.equal(await ledger.failureStreak('f', 100), 0);
    await slot('f', 4, 'failed');
    await slot('f', 5, 'missed');
    await slot('f', null, 'ok', true);
    await slot('f', 6, 'timed_out');
    assert.equal(await ledger.failureStreak('f', 100), 2, 'missed rows and dry runs neither count nor end the streak');
    assert.equal(await ledger.failureStreak('f', 1), 1);
  });
});
