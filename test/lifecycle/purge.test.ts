import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { renderExport } from '../../src/deploy-files/index.js';
import { SETTINGS } from '../deploy-files/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const DAY = 86_400_000;

describe('purge-unactivated-accounts', () => {
  let t: TestApp;
  const clock = new TestClock(Date.UTC(2026, 4, 1));

  before(async () => {
    // Batches of 2, so 5 old accounts take 3 batches.
    t = await startTestApp({ clock, env: { MAINTENANCE_BATCH_SIZE: '2', MAINTENANCE_BATCH_PAUSE_MS: '0' } });
  });
  after(async () => {
    await t.stop();
  });

  async function user(email: string, createdDaysAgo: number, activated: boolean): Promise<number> {
    const created = clock.now() - createdDaysAgo * DAY;
    const row = await t.app.services.users.insert({ email, passwordHash: 'x', role: 'user', profile: '{}', activatedAt: activated ? created : null, now: created });
    assert.ok(row);
    return row.id;
  }

  it('is a registered built-in job, in the ledger and in the deployment exports', async () => {
    const job = t.app.services.jobs.definitions().find((definition) => definition.name === 'purge-unactivated-accounts');
    assert.ok(job, 'registered');
    assert.equal(job.enabled, true);
    assert.equal(job.placeholder, undefined, 'has its real body');
    const jobs = t.app.services.jobs.definitions().map(({ name, schedule, timezone, enabled }) => ({ name, schedule, timezone, enabled }));
    for (const format of ['crontab', 'github-actions', 'kubernetes', 'systemd', 'compose'] as const) {
      assert.match(renderExport(format, jobs, SETTINGS), /purge-unactivated-accounts/, format);
    }
  });

  it('deletes never-activated accounts older than UNACTIVATED_ACCOUNT_TTL in batches; keeps the young and the activated', async () => {
    const old = await Promise.all([1, 2, 3, 4, 5].map((i) => user(`old${i}@example.com`, 8, false)));
    const young = await user('young@example.com', 6, false);
    const veteran = await user('veteran@example.com', 400, true);
    const purged: number[] = [];
    t.app.services.lifecycle.hooks.onAccountDeleted(async (event) => {
      if (event.reason === 'purged') purged.push(...event.userIds);
    });

    const dry = await t.app.services.jobs.runJob('purge-unactivated-accounts', { dryRun: true, trigger: 'cli', caller: {} });
    assert.equal(dry.status, 'ok', dry.error);
    assert.equal(dry.counts.would_delete, 5);
    assert.equal((await t.app.services.storage.db.selectFrom('users').select('id').execute()).length, 7, 'a dry run changes nothing');

    const run = await t.app.services.jobs.runJob('purge-unactivated-accounts', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(run.status, 'ok', run.error);
    assert.equal(run.counts.deleted, 5);
    assert.deepEqual([...purged].sort((a, b) => a - b), old.sort((a, b) => a - b), 'the hooks saw every purged account');
    const left = (await t.app.services.storage.db.selectFrom('users').select('id').orderBy('id').execute()).map((row) => Number(row.id));
    assert.deepEqual(left, [young, veteran]);
    const ledger = await t.app.services.storage.db.selectFrom('cron_runs').select(['job', 'status']).where('job', '=', 'purge-unactivated-accounts').execute();
    assert.equal(ledger.length, 2, 'both runs are in the ledger');
  });

  it('frees the address: the same e-mail registers again after the purge', async () => {
    await user('again@example.com', 30, false);
    await t.app.services.jobs.runJob('purge-unactivated-accounts', { dryRun: false, trigger: 'cli', caller: {} });
    const registered = await t.app.services.accounts.register({ email: 'again@example.com', password: 'violet harbour lantern 2031', profile: { type: 'worker' } });
    assert.equal(registered.email, 'again@example.com');
  });
});
