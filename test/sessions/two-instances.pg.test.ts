import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { describePostgres, postgresMissing } from '../helpers/postgres-only.js';
import { eventually } from '../helpers/processes.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';

const PASSWORD = 'two instances password';
const missing = await postgresMissing();

describePostgres('two instances on one PostgreSQL: revocations reach the other instance within 5 s', missing, () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    database = await createTestDatabase('postgres');
    a = await startTestApp({ database, background: true });
    b = await startTestApp({ database, background: true });
    await createUser(a, { email: 'ann@example.com', password: PASSWORD });
    await createUser(a, { email: 'ben@example.com', password: PASSWORD });
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await database.drop();
  });

  /** The client's access token replayed against instance B. */
  const onB = (http: HttpClient) => {
    const replay = new HttpClient(b.url);
    replay.jar.set('access_token', http.cookie('access_token') as string);
    return replay.get('/api/v1/me/');
  };

  it('DELETE /api/v1/sessions/<id>/ on A: the old access token is refused on B within 5 s', async () => {
    const keep = await loggedInClient(a, 'ann@example.com', PASSWORD);
    const victim = await loggedInClient(a, 'ann@example.com', PASSWORD);
    assert.equal((await onB(victim)).status, 200);
    const id = ((await victim.get('/api/v1/sessions/')).body as { sessions: Array<{ id: string; current: boolean }> }).sessions.find((s) => s.current)?.id;
    assert.ok(id);
    assert.equal((await keep.delete(`/api/v1/sessions/${id}/`, { headers: csrfHeaders(keep) })).status, 200);
    await eventually(async () => (await onB(victim)).status === 401, 'the revoked session refused on B', 5000, 50);
    assert.equal((await onB(keep)).status, 200);
  });

  it('logout-all-users on A: every old access token is refused on B within 5 s', async () => {
    const ann = await loggedInClient(a, 'ann@example.com', PASSWORD);
    const ben = await loggedInClient(b, 'ben@example.com', PASSWORD);
    assert.equal((await onB(ann)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const run = await a.app.services.jobs.runJob('logout-all-users', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(run.status, 'ok');
    assert.ok((run.counts.revoked ?? 0) >= 2);
    await eventually(async () => (await onB(ann)).status === 401 && (await onB(ben)).status === 401, 'both old tokens refused on B', 5000, 50);
  });
});
