import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient, type HttpResponse } from '../helpers/http.js';
import { SECRET } from '../triggers/helpers.js';
import { OwnPostgres } from './own-postgres.js';
import { envelopeProblem } from './raw-http.js';

const PASSWORD = 'correct horse battery';
const own = await OwnPostgres.create();
const skip = typeof own === 'string' ? own : false;
if (skip) console.log(`# skipped: ${skip}`);

/**
 * A PostgreSQL server of the test's own, stopped under a running curfew and
 * started again (issue 16 #5 and "Tests that stay"): every route answers
 * 503 SERVICE_UNAVAILABLE with Retry-After in the envelope while it is
 * down (login, refresh and the trigger routes were 500s, the seed alias an
 * empty `{}`), and curfew recovers without a restart, losing and repeating
 * nothing.
 */
describe('a PostgreSQL outage', { skip }, () => {
  const cluster = own as OwnPostgres;
  let t: TestApp;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'curfew-outage-'));
    t = await startTestApp({
      env: { CRON_SECRETS: SECRET },
      database: { engine: 'postgres', env: { DATABASE_URL: cluster.url, DATA_DIR: dir }, drop: async () => undefined },
    });
    await createUser(t, { email: 'outage@example.test', password: PASSWORD });
  });
  after(async () => {
    await t?.stop();
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const trigger = (http: HttpClient) => http.post('/cron/jobs/flush-expired-tokens/run', { headers: { authorization: `Bearer ${SECRET}` } });

  it('answers 503 with Retry-After on every route that needs the database, and recovers after the restart', async () => {
    const http = await loggedInClient(t, 'outage@example.test', PASSWORD);
    assert.equal((await trigger(http)).status, 200);

    await cluster.stop();
    const anonymous = new HttpClient(t.url);
    const down: Array<[string, HttpResponse]> = [
      ['login', await anonymous.post('/api/v1/login/', { json: { email: 'outage@example.test', password: PASSWORD } })],
      ['register', await anonymous.post('/api/v1/register/', { json: { email: 'new@example.test', password: PASSWORD, profile: { type: 'worker' } } })],
      ['refresh', await http.post('/api/v1/login/refresh/')],
      ['run one job', await trigger(http)],
      ['/cron/run', await http.post('/cron/run', { headers: { authorization: `Bearer ${SECRET}` } })],
      ['seed 001 alias', await http.post('/api/v1/auth/cron/flush-tokens/', { headers: { 'x-cron-secret': SECRET } })],
      ['seed 000 alias', await http.delete('/api/cronjob/cron/check-inactive-users', { headers: { authorization: `Bearer ${SECRET}` } })],
    ];
    for (const [name, response] of down) {
      assert.equal(response.status, 503, `${name}: ${response.status} ${response.text}`);
      assert.equal(envelopeProblem(response.text), undefined, `${name}: ${response.text}`);
      assert.equal((response.body as { error: { code: string } }).error.code, 'SERVICE_UNAVAILABLE', name);
      assert.ok(response.headers.get('retry-after'), `${name} has Retry-After`);
    }
    // Routes that can answer without the database may; none may answer 500.
    for (const response of [await http.post('/api/v1/test/', { headers: csrfHeaders(http) }), await http.get('/api/v1/me/'), await anonymous.get('/health/ready')]) {
      assert.ok(response.status < 500 || response.status === 503, `${response.status} ${response.text}`);
      if (response.status >= 400) assert.equal(envelopeProblem(response.text), undefined, response.text);
    }
    assert.equal(t.logs.lines.filter((line) => line.includes('"level":50')).length, 0, 'an outage is not logged as an error per request');

    await cluster.start();
    // The pool's old connections died with the server: the first queries may still fail (503), then it recovers.
    let recovered: HttpResponse | undefined;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      recovered = await trigger(http);
      if (recovered.status !== 503) break;
    }
    assert.equal(recovered?.status, 200, recovered?.text);
    const login = await new HttpClient(t.url).post('/api/v1/login/', { json: { email: 'outage@example.test', password: PASSWORD } });
    assert.equal(login.status, 200, login.text);

    // Nothing lost, nothing run twice: one run before the outage and one after, each in the ledger once.
    const runs = await sql<{ status: string }>`select status from cron_runs where job = 'flush-expired-tokens' order by id`.execute(t.app.services.storage.db);
    assert.deepEqual(runs.rows.map((row) => row.status), ['ok', 'ok']);
  });
});
