import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { ledgerRows } from '../helpers/ledger.js';
import { describePostgres, postgresMissing } from '../helpers/postgres-only.js';
import { BUILT_IN_JOBS_OFF, CurfewCluster, eventually } from '../helpers/processes.js';
import { CURFEW_TEST_ENTRY } from '../helpers/test-jobs.js';
import { SECRET } from './helpers.js';

/**
 * Several real `curfew serve` processes on one PostgreSQL schema, each with
 * its in-process scheduler firing the test-only every-second job, while 50
 * concurrent `/cron/run` calls hit them too: every slot still runs once.
 */
const missing = await postgresMissing();

describePostgres('triggers and schedulers in several processes on one PostgreSQL', missing, () => {
  let database: TestDatabase;
  let cluster: CurfewCluster;

  before(async () => {
    database = await createTestDatabase('postgres');
    cluster = new CurfewCluster({
      ...database.env,
      SCHEDULER: 'on',
      CRON_SECRETS: SECRET,
      CRON_THROTTLE_MAX: '1000',
      ...BUILT_IN_JOBS_OFF,
    }, [...CURFEW_TEST_ENTRY, 'serve']);
    cluster.start(['p1', 'p2', 'p3']);
  });

  after(async () => {
    await cluster.stopAll();
    assert.ok(!cluster.output().includes(SECRET), 'no process logged the secret');
    await database?.drop();
  });

  it('runs each slot exactly once while 50 concurrent /cron/run calls race the in-process schedulers', async () => {
    const urls = await Promise.all([...cluster.instances.values()].map((instance) => instance.url));
    // The schedulers fire slots on their own first: wait until the ledger shows two.
    const scheduledOk = async () => (await ledgerRows(database, 'test-counter')).filter((row) => row.trigger === 'schedule' && row.status === 'ok');
    await eventually(async () => (await scheduledOk()).length >= 2, 'two scheduled slots run', 90_000);
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, index) => {
        const response = await fetch(`${urls[index % urls.length]}/cron/run`, {
          method: index % 2 === 0 ? 'POST' : 'GET',
          headers: { authorization: `Bearer ${SECRET}` },
        });
        return { status: response.status, body: (await response.json()) as { ok: boolean; data?: { runs: Array<{ job: string; status: string }> } } };
      }),
    );
    // And they keep firing while and after the calls race them: one more scheduled slot past the calls.
    const lastBefore = Math.max(...(await scheduledOk()).map((row) => row.id));
    await eventually(async () => (await scheduledOk()).some((row) => row.id > lastBefore), 'a scheduled slot after the calls', 60_000);
    await cluster.stopAll();

    const statuses = answers.map((answer) => answer.status);
    assert.ok(statuses.every((status) => status === 200 || status === 409), `only 200 and 409: ${statuses.join(',')}`);
    assert.ok(statuses.includes(200), 'at least one /cron/run executed');

    const rows = (await ledgerRows(database, 'test-counter')).filter((row) => row.scheduled_for !== null);
    const okSlots = rows.filter((row) => row.status === 'ok').map((row) => row.scheduled_for);
    assert.ok(okSlots.length >= 3, `several slots ran (${okSlots.length})`);
    assert.equal(new Set(okSlots).size, okSlots.length, 'no slot has two ok rows');
    assert.ok(rows.some((row) => row.trigger === 'schedule'), 'the in-process schedulers fired slots');

    const logFile = join(database.env.DATA_DIR as string, 'test-jobs.log');
    const effects = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((line) => line.startsWith('counter ')) : [];
    const effectSlots = effects.map((line) => Number(line.split(' ')[1]));
    assert.equal(new Set(effectSlots).size, effectSlots.length, `each slot's side effect happened once (${effects.length} lines)`);
    assert.deepEqual([...effectSlots].sort(), [...okSlots].sort(), 'one side effect per ok ledger row');
  });
});
