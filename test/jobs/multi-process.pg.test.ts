import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../helpers/database.js';
import { ledgerRows, leaseHolder, type LedgerRow } from '../helpers/ledger.js';
import { describePostgres, postgresMissing } from '../helpers/postgres-only.js';
import { BUILT_IN_JOBS_OFF, CurfewCluster, eventually } from '../helpers/processes.js';
import { CURFEW_TEST_ENTRY } from '../helpers/test-jobs.js';

const CURFEW_TEST_ENTRY_SERVE = [...CURFEW_TEST_ENTRY, 'serve'];

/**
 * Several real `curfew serve` processes on one PostgreSQL schema, each with
 * its in-process scheduler on, running the test-only jobs (test/helpers/curfew-test-entry.js:
 * every-second schedules that append one line per run to DATA_DIR/test-jobs.log).
 */
const missing = await postgresMissing();

function cluster(database: TestDatabase, env: Record<string, string>): CurfewCluster {
  return new CurfewCluster({
    ...database.env,
    SCHEDULER: 'on',
    LOG_LEVEL: 'warn',
    // Only the test jobs: the built-ins would add noise, not coverage.
    ...BUILT_IN_JOBS_OFF,
    ...env,
  }, CURFEW_TEST_ENTRY_SERVE);
}

/** The side effects the test jobs wrote (one line per completed run). */
function effectLines(database: TestDatabase): string[] {
  const file = join(database.env.DATA_DIR as string, 'test-jobs.log');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : [];
}

describePostgres('several real processes on one PostgreSQL', missing, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(() => database.drop());

  it('runs each slot exactly once across 3 schedulers (one ok row and one side effect per slot)', async () => {
    const processes = cluster(database, {});
    try {
      processes.start(['p1', 'p2', 'p3']);
      await eventually(async () => (await ledgerRows(database, 'test-counter')).filter((r) => r.status === 'ok').length >= 5, 'five ok runs in the ledger', 90_000);
    } finally {
      await processes.stopAll();
      if (process.env.DEBUG_MULTI) process.stderr.write(processes.output());
    }
    const rows = await ledgerRows(database, 'test-counter');
    const ok = rows.filter((r) => r.status === 'ok');
    const okSlots = ok.map((r) => r.scheduled_for);
    assert.equal(new Set(okSlots).size, okSlots.length, 'no slot has two ok rows');
    const effects = effectLines(database).filter((line) => line.startsWith('counter '));
    const effectSlots = effects.map((line) => Number(line.split(' ')[1]));
    assert.equal(new Set(effectSlots).size, effectSlots.length, `no slot ran twice:\n${effects.join('\n')}`);
    assert.deepEqual([...effectSlots].sort(), [...okSlots].map(Number).sort(), 'one side effect per ok row');
    assert.ok(rows.every((r) => r.status !== 'running'), 'stop() drained every run');
  });

  it('kill -9 of the lease holder mid-run: after the lease TTL another instance runs the next slot; the dead run is failed/abandoned', async () => {
    await (async () => {
      const client = new pg.Client({ connectionString: postgresUrl() });
      await client.connect();
      await client.query(`delete from ${database.env.DATABASE_SCHEMA}.cron_runs`);
      await client.end();
    })();
    const processes = cluster(database, { JOB_TEST_COUNTER_ENABLED: 'false', JOB_TEST_SLOW_ENABLED: 'true', JOB_TEST_SLOW_LEASE_TTL: '2s' });
    try {
      processes.start(['k1', 'k2', 'k3']);
      let victim: LedgerRow | undefined;
      // The victim is the lease holder, caught while its run is in progress.
      await eventually(async () => {
        const holder = await leaseHolder(database, 'test-slow');
        victim = (await ledgerRows(database, 'test-slow')).find((r) => r.status === 'running' && r.instance_id === holder);
        return victim !== undefined;
      }, 'a running test-slow run of the lease holder', 90_000);
      const dead = victim as LedgerRow;
      await processes.get(dead.instance_id).kill('SIGKILL');
      await eventually(async () => {
        const rows = await ledgerRows(database, 'test-slow');
        return rows.some((r) => r.status === 'ok' && (r.scheduled_for ?? 0) > (dead.scheduled_for ?? 0));
      }, 'a later slot run ok by another instance', 60_000);
      const rows = await ledgerRows(database, 'test-slow');
      const deadNow = rows.find((r) => r.id === dead.id);
      assert.equal(deadNow?.status, 'failed');
      assert.equal(deadNow?.error, 'abandoned (lease expired)');
      const ok = rows.filter((r) => r.status === 'ok');
      assert.ok(ok.every((r) => r.instance_id !== dead.instance_id), 'the dead instance has no success');
      assert.equal(new Set(ok.map((r) => r.scheduled_for)).size, ok.length);
      assert.ok(!effectLines(database).includes(`slow ${dead.scheduled_for} ${dead.instance_id}`), 'the killed run never completed its side effect');
    } finally {
      await processes.stopAll();
      if (process.env.DEBUG_MULTI) process.stderr.write(processes.output());
    }
  });
});
