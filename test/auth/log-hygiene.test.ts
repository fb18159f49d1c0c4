import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders } from './support.js';

const PASSWORD = 'Sup3r-secret-passw0rd';
const WRONG_PASSWORD = 'An0ther-wr0ng-guess!';

describe('log hygiene: no password, cookie value or token in any log line', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { LOG_LEVEL: 'trace' } });
    await createUser(t, { email: 'hygiene@example.com', password: PASSWORD });
  });
  after(async () => t.stop());

  it('runs every auth route, including failures, then greps the captured logs', async () => {
    const secrets = new Set<string>([PASSWORD, WRONG_PASSWORD]);
    const remember = (http: HttpClient) => {
      for (const value of http.jar.values()) secrets.add(value);
    };
    const http = new HttpClient(t.url);
    assert.equal((await http.post('/api/v1/login/', { json: { email: 'hygiene@example.com', password: WRONG_PASSWORD } })).status, 401);
    assert.equal((await http.post('/api/v1/login/', { json: { email: 'hygiene@example.com', password: PASSWORD, extra: 1 } })).status, 400);
    assert.equal((await http.post('/api/v1/login/', { body: `{"password":"${PASSWORD}"`, headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal((await http.post('/api/v1/login/', { form: { email: 'hygiene@example.com', password: PASSWORD } })).status, 200);
    remember(http);
    const firstRefresh = http.cookie('refresh_token') as string;
    assert.equal((await http.get('/api/v1/me/')).status, 200);
    assert.equal((await http.post('/api/v1/test/', { headers: csrfHeaders(http) })).status, 200);
    assert.equal((await http.post('/api/v1/test/', { headers: { 'x-csrftoken': 'wrong' } })).status, 403);
    assert.equal((await http.post('/api/v1/verify/', { json: { token: http.cookie('access_token') } })).status, 200);
    assert.equal((await http.post('/api/v1/login/refresh/')).status, 200);
    remember(http);
    // Reuse after the grace would need the clock; a reuse within it still goes through the repository.
    const tab = new HttpClient(t.url);
    tab.jar.set('refresh_token', firstRefresh);
    assert.equal((await tab.post('/api/v1/login/refresh/')).status, 200);
    remember(tab);
    assert.equal((await http.post('/api/v1/logout/', { headers: csrfHeaders(http) })).status, 200);
    const gone = new HttpClient(t.url);
    gone.jar.set('refresh_token', firstRefresh);
    assert.equal((await gone.post('/api/v1/login/refresh/')).status, 401);

    // Secrets in the places an access line could pick them up: the query, a path parameter, a Bearer header.
    const queryToken = `q-${'7'.repeat(40)}`;
    const pathToken = `p-${'8'.repeat(40)}`;
    secrets.add(queryToken).add(pathToken);
    const probe = new HttpClient(t.url);
    const access = http.cookie('access_token');
    const probes = [
      await probe.get(`/api/v1/me/?access_token=${queryToken}`, { headers: { 'user-agent': 'hygiene-probe/1' } }),
      await probe.post(`/cron/run?token=${queryToken}`, { headers: { 'user-agent': 'hygiene-probe/1' } }),
      await probe.post('/cron/run', { headers: { authorization: `Bearer ${queryToken}`, 'user-agent': 'hygiene-probe/1' } }),
      await probe.get(`/api/v1/activate/${pathToken}/`, { headers: { 'user-agent': 'hygiene-probe/1' } }),
      await probe.get('/api/v1/me/', { headers: { authorization: `Bearer ${access ?? ''}`, 'user-agent': 'hygiene-probe/1' } }),
    ];
    const lines = t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const response of probes) {
      const id = response.headers.get('x-request-id');
      const [line, ...more] = lines.filter((entry) => entry.msg === 'request completed' && entry.reqId === id);
      assert.equal(more.length, 0, 'one access line per request');
      const req = line?.req as Record<string, unknown> | undefined;
      assert.equal(typeof req?.method, 'string', `method in ${JSON.stringify(line)}`);
      assert.match(String(req?.url), /^\/(api|cron)\//, 'path');
      assert.match(String(req?.ip), /127\.0\.0\.1/, 'client IP');
      assert.equal(req?.userAgent, 'hygiene-probe/1', 'user agent');
      assert.equal((line?.res as { statusCode?: number } | undefined)?.statusCode, response.status, 'status');
      assert.equal(typeof line?.responseTime, 'number', 'duration');
    }

    const logs = t.logs.lines;
    assert.ok(logs.length > 10, 'the app logged the requests (otherwise this test proves nothing)');
    for (const secret of secrets) {
      assert.ok(secret.length >= 16, 'every secret is long enough to be unambiguous');
      const leaking = logs.filter((line) => line.includes(secret));
      assert.deepEqual(leaking, [], `a log line contains a secret (${secret.slice(0, 4)}…)`);
    }
  });
});
