import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { SECRET } from '../triggers/helpers.js';
import { envelopeProblem, httpRequest, rawRequest } from './raw-http.js';

type ErrorBody = { error: { code: string; message: string } };
const PASSWORD = 'correct horse battery';

describe('hardening: bad input is a 400, never a 500 (issue 16 #3, #4)', () => {
  let t: TestApp;
  let port: number;
  before(async () => {
    t = await startTestApp({ env: { CRON_SECRETS: SECRET } });
    port = Number(new URL(t.url).port);
    await createUser(t, { email: 'nul@example.test', password: PASSWORD });
  });
  after(async () => {
    await t.stop();
  });

  it('refuses a NUL in the login email with 400 VALIDATION_FAILED (was 500 on PostgreSQL, 22021)', async () => {
    const http = new HttpClient(t.url);
    const response = await http.post<ErrorBody>('/api/v1/login/', { json: { email: 'a\u0000b@example.com', password: 'x' } });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.error.code, 'VALIDATION_FAILED');
    assert.match(response.body.error.message, /body\.email/);
    assert.equal(t.logs.lines.filter((line) => line.includes('"level":50')).length, 0, 'nothing logged at error level');
  });

  it('refuses control characters in JSON, urlencoded and multipart bodies, queries and path parameters', async () => {
    const http = new HttpClient(t.url);
    const cases = [
      await http.post<ErrorBody>('/api/v1/register/', { json: { email: 'r@example.test', password: PASSWORD, profile: { type: 'worker', first_name: 'a\u0001' } } }),
      await http.post<ErrorBody>('/api/v1/register/', { form: { email: 'r\u0000@example.test', password: PASSWORD, profile: '{"type":"worker"}' } }),
      await http.post<ErrorBody>('/api/v1/login/', { multipart: { email: 'nul@example.test', password: `${PASSWORD}\u0000` } }),
      await http.post<ErrorBody>('/api/v1/verify/', { json: { token: 'abc\u001f' } }),
      await http.get<ErrorBody>('/api/v1/activate/abc%00def/'),
      await http.post<ErrorBody>('/cron/jobs/flush%00tokens/run', { headers: { authorization: `Bearer ${SECRET}` } }),
      await http.get<ErrorBody>('/api/v1/presence/?ids=1%7f', {}),
    ];
    for (const response of cases) {
      assert.ok(response.status >= 400 && response.status < 500, `${response.status} ${response.text}`);
      assert.equal(envelopeProblem(response.text), undefined);
    }
    // The ones that reach the schema edge say why.
    for (const response of cases.slice(0, 6)) assert.equal(response.body.error.code, 'VALIDATION_FAILED', response.text);
  });

  it('lets tab, line feed and carriage return through (a pretty-printed profile)', async () => {
    const http = new HttpClient(t.url);
    const response = await http.post('/api/v1/register/', {
      form: { email: 'pretty@example.test', password: PASSWORD, profile: '{\n\t"type": "worker"\r\n}' },
    });
    assert.equal(response.status, 201, response.text);
  });

  it('answers malformed multipart with 400 INVALID_MULTIPART (was 500)', async () => {
    const part = '--XX\r\nContent-Disposition: form-data; name="email"\r\n\r\nnul@example.test\r\n';
    const bodies: Array<[string, string]> = [
      ['multipart/form-data', part],
      ['multipart/form-data; boundary=XX', 'no boundary line at all'],
      ['multipart/form-data; boundary=XX', part],
      ['multipart/form-data; boundary=XX', '--XX\r\nContent-Disposition: form-data; name="email"\r\n\r\nab'],
    ];
    for (const path of ['/api/v1/login/', '/api/v1/register/']) {
      for (const [type, body] of bodies) {
        const response = await rawRequest(port, httpRequest('POST', path, { 'Content-Type': type }, body));
        assert.equal(response.status, 400, `${path} ${type}: ${response.body}`);
        assert.equal((JSON.parse(response.body) as ErrorBody).error.code, 'INVALID_MULTIPART', response.body);
      }
    }
  });

  it("answers what Node's parser refuses in the envelope too", async () => {
    for (const request of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n', `GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`]) {
      const response = await rawRequest(port, request);
      assert.ok(response.status === 400 || response.status === 431, `${response.status} ${response.body}`);
      assert.equal(envelopeProblem(response.body), undefined);
      assert.ok(response.closedByServer);
    }
  });
});

describe('login CSRF (issue 16 #10): foreign origins cannot log in or register', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { ALLOWED_ORIGINS: 'https://app.example.test' } });
    await createUser(t, { email: 'victim@example.test', password: PASSWORD });
  });
  after(async () => {
    await t.stop();
  });

  const foreign: Array<[string, Record<string, string>]> = [
    ['Origin: http://evil.example', { origin: 'http://evil.example' }],
    ['Origin: null', { origin: 'null' }],
    ['a foreign Referer', { referer: 'http://evil.example/form.html' }],
  ];
  for (const [name, headers] of foreign) {
    it(`refuses a cross-site form post with ${name}, setting no cookie`, async () => {
      const http = new HttpClient(t.url);
      const login = await http.post<ErrorBody>('/api/v1/login/', { form: { email: 'victim@example.test', password: PASSWORD }, headers });
      assert.equal(login.status, 403, login.text);
      assert.equal(login.body.error.code, 'CSRF_FAILED');
      assert.deepEqual(Object.keys(login.setCookies), []);
      const register = await http.post<ErrorBody>('/api/v1/register/', { json: { email: 'x@example.test', password: PASSWORD, profile: { type: 'worker' } }, headers });
      assert.equal(register.status, 403, register.text);
    });
  }

  it('lets the allowed origin, its Referer, and callers without either log in', async () => {
    const allowed: Array<Record<string, string>> = [{ origin: 'https://app.example.test' }, { referer: 'https://app.example.test/login' }, {}];
    for (const headers of allowed) {
      const response = await new HttpClient(t.url).post('/api/v1/login/', { json: { email: 'victim@example.test', password: PASSWORD }, headers });
      assert.equal(response.status, 200, response.text);
    }
  });
});

describe('GET /api/cronjob/csrf-token (issue 16 #13) keeps a signed-in user’s bound token', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    await createUser(t, { email: 'keep@example.test', password: PASSWORD });
  });
  after(async () => {
    await t.stop();
  });

  it('does not replace a valid bound CSRF cookie, so the user can still log out', async () => {
    const http = await loggedInClient(t, 'keep@example.test', PASSWORD);
    const bound = http.cookie('csrftoken');
    const response = await http.get('/api/cronjob/csrf-token');
    assert.equal(response.status, 200);
    assert.equal(response.setCookies.csrftoken, undefined, 'no Set-Cookie for csrftoken');
    assert.equal(http.cookie('csrftoken'), bound);
    const logout = await http.post('/api/v1/logout/', { headers: csrfHeaders(http) });
    assert.equal(logout.status, 200, logout.text);
  });

  it('still hands a token to an anonymous caller and to one whose cookie is not bound to its session', async () => {
    const anonymous = await new HttpClient(t.url).get('/api/cronjob/csrf-token');
    assert.ok(anonymous.setCookies.csrftoken);
    const http = await loggedInClient(t, 'keep@example.test', PASSWORD);
    http.jar.set('csrftoken', 'forged.value');
    const response = await http.get('/api/cronjob/csrf-token');
    assert.ok(response.setCookies.csrftoken);
  });
});

describe('trigger routes answer their errors in the envelope (issue 16 #5: their 500 schemas broke it)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { CRON_SECRETS: SECRET } });
  });
  after(async () => {
    await t.stop();
  });

  it('a run that cannot be recorded gives the envelope on /cron/jobs/:name/run and both seed aliases', async () => {
    // Break the ledger under the running app: every run now fails before it starts.
    await sql`drop table cron_runs`.execute(t.app.services.storage.db);
    const http = new HttpClient(t.url);
    const auth = { authorization: `Bearer ${SECRET}` };
    const responses = [
      await http.post('/cron/jobs/flush-expired-tokens/run', { headers: auth }),
      await http.post('/api/v1/auth/cron/flush-tokens/', { headers: { 'x-cron-secret': SECRET } }),
      await http.delete('/api/cronjob/cron/check-inactive-users', { headers: auth }),
      await http.post('/cron/run', { headers: auth }),
    ];
    for (const response of responses) {
      assert.ok(response.status >= 500, `${response.status} ${response.text}`);
      assert.equal(envelopeProblem(response.text), undefined, response.text);
      assert.doesNotMatch(response.text, /FST_ERR_FAILED_ERROR_SERIALIZATION/);
    }
  });
});
