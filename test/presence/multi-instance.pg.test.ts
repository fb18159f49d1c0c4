import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { PresenceRepository } from '../../src/db/repositories/presence.js';
import { createUser } from '../auth/support.js';
import { TEST_SECRET_KEY, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { describePostgres, postgresMissing } from '../helpers/postgres-only.js';
import { CurfewProcess } from '../helpers/processes.js';
import { HttpClient } from '../helpers/http.js';
import { eventually, openTab, sawOffline, sawOnline, userWithClient } from './support.js';

const missing = await postgresMissing();

const PRESENCE_ENV = {
  PRESENCE_VISIBILITY: 'signed-in',
  PRESENCE_TICK_MS: '20',
  PRESENCE_OFFLINE_GRACE: '0',
  PRESENCE_HEARTBEAT_MS: '200',
  PRESENCE_INSTANCE_TIMEOUT_MS: '1000',
};

describePostgres('presence across instances on PostgreSQL', missing, () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let child: CurfewProcess | undefined;

  before(async () => {
    database = await createTestDatabase('postgres');
    a = await startTestApp({ database, background: true, env: PRESENCE_ENV });
    b = await startTestApp({ database, background: true, env: PRESENCE_ENV });
  });
  after(async () => {
    await child?.kill('SIGKILL');
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  it('a client on A sees a user on B come online and go offline', async () => {
    const watcher = await userWithClient(a, 'watcher');
    const alice = await userWithClient(b, 'alice');
    const observer = await openTab(a.url, watcher.http);
    const tab = await openTab(b.url, alice.http);
    await observer.waitFor(sawOnline(alice.id), 'alice (on B) online, seen on A');
    await tab.close();
    await observer.waitFor(sawOffline(alice.id), 'alice (on B) offline, seen on A');
    await observer.close();
  });

  it('kill -9 of an instance: its users go offline after the heartbeat timeout plus one sweep', async () => {
    const carolRow = await createUser(a, { email: 'carol@example.test', password: 'correct horse battery' });
    const carolId = Number(carolRow.id);
    child = new CurfewProcess({ name: 'presence-child', env: { ...database.env, ...PRESENCE_ENV, SCHEDULER: 'off', SECRET_KEY: TEST_SECRET_KEY } });
    const childUrl = await child.url;

    const carol = new HttpClient(childUrl);
    const login = await carol.post('/api/v1/login/', { json: { email: 'carol@example.test', password: 'correct horse battery' } });
    assert.equal(login.status, 200, login.text);
    const watcher = await userWithClient(a, 'watcher2');
    const observer = await openTab(a.url, watcher.http);
    const tab = await openTab(childUrl, carol);
    await observer.waitFor(sawOnline(carolId), 'carol (on the child) online, seen on A');

    const repo = new PresenceRepository(a.app.services.storage);
    await child.kill('SIGKILL');
    assert.equal((await repo.find(carolId))?.online, 1, 'a killed instance leaves its user online until the sweep');

    // The heartbeat must go stale first (real time in another process: poll, do not assert timings).
    const heartbeat = await a.app.services.storage.db
      .selectFrom('presence_instances')
      .select('heartbeat_at')
      .where('instance_id', '=', 'presence-child')
      .executeTakeFirstOrThrow();
    await eventually(async () => Date.now() > heartbeat.heartbeat_at + 1000, 'the heartbeat timeout', 10_000);

    const summary = await a.app.services.jobs.runJob('check-inactive-users', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(summary.status, 'ok', summary.error);
    assert.equal(summary.counts.instances_reaped, 1);
    assert.equal(summary.counts.connections_removed, 1);
    assert.equal(summary.counts.marked_offline, 1);
    const row = await repo.find(carolId);
    assert.equal(row?.online, 0);
    assert.equal(row?.active_connections, 0);
    await observer.waitFor(sawOffline(carolId), 'carol offline after the sweep, seen on A');
    tab.socket.terminate();
    await observer.close();
  });
});
