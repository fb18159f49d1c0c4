import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { signedHeaders } from '../../src/triggers/signature.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { HttpClient, type HttpResponse } from '../helpers/http.js';
import { OLD_SECRET, SECRET, assertNoSecretInLogs, errorCode, rowCounts, type ErrorBody } from './helpers.js';

const TRIGGER_ROUTES: Array<[string, string]> = [
  ['GET', '/cron/run'],
  ['POST', '/cron/run'],
  ['POST', '/cron/run/'],
  ['POST', '/cron/jobs/check-inactive-users/run'],
  ['DELETE', '/api/cronjob/cron/check-inactive-users'],
  ['POST', '/api/v1/auth/cron/flush-tokens/'],
  ['GET', '/cron/status'],
];

/** Got past the guard (the handler answered, whatever it said). */
function passedGuard(response: HttpResponse<ErrorBody>): boolean {
  return ![401, 403, 429].includes(response.status) && errorCode(response) !== 'CRON_NOT_CONFIGURED';
}

const allApps: TestApp[] = [];
async function start(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
  const t = await startTestApp(options);
  allApps.push(t);
  return t;
}

describe('trigger guard over HTTP', () => {
  const clock = new TestClock(Date.UTC(2026, 2, 10, 12, 0, 0));
  let shared: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let unconfigured: TestApp;
  const env = { CRON_SECRETS: `${SECRET},${OLD_SECRET}`, CRON_THROTTLE_MAX: '3', CRON_THROTTLE_WINDOW: '600' };

  before(async () => {
    shared = await createTestDatabase();
    a = await start({ env, clock, database: shared });
    b = await start({ env, clock, database: shared });
    unconfigured = await start({});
  });
  after(async () => {
    for (const t of allApps) await t.stop();
    await shared.drop();
  });

  it('fails closed: with no secret every trigger route answers 503 CRON_NOT_CONFIGURED, even to "Bearer undefined"', async () => {
    const http = new HttpClient(unconfigured.url);
    const credentials: Array<Record<string, string>> = [{}, { authorization: 'Bearer undefined' }, { 'x-cron-secret': 'undefined' }, { authorization: `Bearer ${SECRET}` }];
    for (const [method, path] of TRIGGER_ROUTES) {
      for (const headers of credentials) {
        const response = await http.request<ErrorBody>(method, path, { headers });
        assert.equal(response.status, 503, `${method} ${path}`);
        assert.equal(errorCode(response), 'CRON_NOT_CONFIGURED');
      }
    }
    const query = await http.get<ErrorBody>('/cron/run?token=undefined');
    assert.equal(query.status, 503);
  });

  it('answers 401 to wrong or missing credentials without writing a single row', async () => {
    const before = await rowCounts(a);
    const http = new HttpClient(a.url);
    const now = clock.now();
    const attempts: Array<[string, string, Record<string, string>]> = [
      ['POST', '/cron/run', {}],
      ['POST', '/cron/run', { authorization: 'Bearer undefined' }],
      ['GET', '/cron/run', { authorization: `Bearer ${SECRET}x` }],
      ['POST', '/cron/run', { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}` }],
      ['POST', '/cron/run', { 'x-cron-secret': SECRET.slice(0, -1) }],
      ['POST', '/cron/jobs/check-inactive-users/run', { 'x-cron-secret': 'nope' }],
      ['DELETE', '/api/cronjob/cron/check-inactive-users', { authorization: 'Bearer nope', 'x-csrftoken': 'abc' }],
      ['POST', '/api/v1/auth/cron/flush-tokens/', {}],
      ['POST', '/cron/run', signedHeaders('not-the-secret-at-all-0123456789abcdef', 'POST', '/cron/run', now)],
      ['POST', '/cron/run', signedHeaders(SECRET, 'POST', '/cron/run', now - 6 * 60_000)],
      ['GET', '/cron/status', { authorization: 'Bearer nope' }],
    ];
    for (const [method, path, headers] of attempts) {
      const response = await http.request<ErrorBody>(method, path, { headers });
      assert.equal(response.status, 401, `${method} ${path} ${JSON.stringify(Object.keys(headers))}`);
    }
    // Query tokens are off by default: the right secret in the URL is still refused.
    const query = await http.get<ErrorBody>(`/cron/run?token=${SECRET}`);
    assert.equal(query.status, 401);
    assert.deepEqual(await rowCounts(a), before, 'no table changed');
  });

  it('accepts a signed request once; the same signature is refused afterwards on any instance', async () => {
    const headers = signedHeaders(SECRET, 'POST', '/cron/jobs/no-such-job/run', clock.now());
    const first = await new HttpClient(a.url).post<ErrorBody>('/cron/jobs/no-such-job/run', { headers });
    assert.ok(passedGuard(first), `first use passes the guard (got ${first.status} ${first.text})`);
    for (const t of [a, b]) {
      const replay = await new HttpClient(t.url).post<ErrorBody>('/cron/jobs/no-such-job/run', { headers });
      assert.equal(replay.status, 401);
      assert.equal(errorCode(replay), 'SIGNATURE_REPLAYED');
    }
  });

  it('refuses a signature outside the 5-minute window, judged by the injected clock', async () => {
    const http = new HttpClient(a.url);
    const body = '{"hello":"world"}';
    const fresh = signedHeaders(OLD_SECRET, 'POST', '/cron/jobs/x/run?dry_run=1', clock.now() - 4 * 60_000, body);
    const ok = await http.post<ErrorBody>('/cron/jobs/x/run?dry_run=1', { headers: { ...fresh, 'content-type': 'application/json' }, body });
    assert.ok(passedGuard(ok), `a 4-minute-old signature over the body passes (got ${ok.status} ${ok.text})`);

    const signedNow = signedHeaders(SECRET, 'POST', '/cron/jobs/x/run', clock.now());
    clock.advance(5 * 60_000 + 1000);
    const stale = await http.post<ErrorBody>('/cron/jobs/x/run', { headers: signedNow });
    assert.equal(stale.status, 401);
    assert.equal(errorCode(stale), 'SIGNATURE_EXPIRED');
  });

  it('throttles per route and caller across two instances sharing the database, with Retry-After', async () => {
    clock.set(Date.UTC(2026, 2, 10, 13, 0, 0)); // the start of a fresh 10-minute window
    const route = '/cron/jobs/throttle-probe/run';
    const headers = { authorization: `Bearer ${SECRET}` };
    const statuses: number[] = [];
    for (const t of [a, b, a]) statuses.push((await new HttpClient(t.url).post<ErrorBody>(route, { headers })).status);
    assert.ok(statuses.every((status) => status !== 429), `three calls fit the budget: ${statuses.join(',')}`);
    for (const t of [b, a]) {
      const limited = await new HttpClient(t.url).post<ErrorBody>(route, { headers: { 'x-cron-secret': OLD_SECRET } });
      assert.equal(limited.status, 429);
      assert.equal(errorCode(limited), 'RATE_LIMITED');
      assert.equal(limited.headers.get('retry-after'), '600');
    }
    // Another route has its own budget.
    const other = await new HttpClient(b.url).post<ErrorBody>('/cron/jobs/another-probe/run', { headers });
    assert.notEqual(other.status, 429);
    // Strangers cannot spend the caller's budget, and wrong secrets are not counted.
    clock.advance(9 * 60_000);
    const wrong = await new HttpClient(a.url).post<ErrorBody>(route, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(wrong.status, 401);
    const retry = await new HttpClient(a.url).post<ErrorBody>(route, { headers });
    assert.equal(retry.status, 429);
    assert.equal(retry.headers.get('retry-after'), '60');
    clock.advance(60_000);
    const nextWindow = await new HttpClient(b.url).post<ErrorBody>(route, { headers });
    assert.notEqual(nextWindow.status, 429, 'a new window has a new budget');
  });

  it('logs nothing secret: a grep over every captured log line finds no secret', () => {
    const lines = assertNoSecretInLogs(allApps, [SECRET, OLD_SECRET]);
    assert.ok(lines > 20, `the apps did log (${lines} lines)`);
  });
});

describe('trigger guard options', () => {
  const apps: TestApp[] = [];
  after(async () => {
    assertNoSecretInLogs(apps, [SECRET]);
    for (const t of apps) await t.stop();
  });

  it('accepts ?token= only when CRON_ALLOW_QUERY_TOKEN=true, and logs the URL redacted', async () => {
    const t = await startTestApp({ env: { CRON_SECRET: SECRET, CRON_ALLOW_QUERY_TOKEN: 'true' } });
    apps.push(t);
    const http = new HttpClient(t.url);
    const good = await http.post<ErrorBody>(`/cron/jobs/query-probe/run?token=${SECRET}`);
    assert.ok(passedGuard(good), `got ${good.status}`);
    const bad = await http.post<ErrorBody>('/cron/jobs/query-probe/run?token=wrong');
    assert.equal(bad.status, 401);
    assert.match(t.logs.text(), /token=\[REDACTED\]/);
    assert.ok(!t.logs.text().includes(SECRET));
  });

  it('answers 403 outside CRON_IP_ALLOWLIST and reads X-Forwarded-For only behind a trusted proxy', async () => {
    const strict = await startTestApp({ env: { CRON_SECRET: SECRET, CRON_IP_ALLOWLIST: '10.0.0.0/8, 2001:db8::/32' } });
    const proxied = await startTestApp({ env: { CRON_SECRET: SECRET, CRON_IP_ALLOWLIST: '10.0.0.0/8', TRUST_PROXY: 'true' } });
    apps.push(strict, proxied);
    const headers = { authorization: `Bearer ${SECRET}`, 'x-forwarded-for': '10.1.2.3' };
    const outside = await new HttpClient(strict.url).post<ErrorBody>('/cron/run', { headers });
    assert.equal(outside.status, 403, 'X-Forwarded-For is ignored without TRUST_PROXY');
    assert.equal(errorCode(outside), 'IP_NOT_ALLOWED');
    const inside = await new HttpClient(proxied.url).post<ErrorBody>('/cron/jobs/ip-probe/run', { headers });
    assert.ok(passedGuard(inside), `got ${inside.status}`);
    const spoofed = await new HttpClient(proxied.url).post<ErrorBody>('/cron/run', {
      headers: { ...headers, 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(spoofed.status, 403);
  });

  it('judges IPv6 callers by IPv6 entries over a real ::1 socket', async (context) => {
    const v6 = await startTestApp({ env: { HOST: '::1', CRON_SECRET: SECRET, CRON_IP_ALLOWLIST: '::1/128' } }).catch((error: unknown) => error as Error);
    if (v6 instanceof Error) {
      const code = (v6 as NodeJS.ErrnoException).code;
      assert.ok(code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT', `only a missing IPv6 loopback may skip this: ${v6.message}`);
      context.skip(`no IPv6 loopback here: ${v6.message}`);
      return;
    }
    const v4only = await startTestApp({ env: { HOST: '::1', CRON_SECRET: SECRET, CRON_IP_ALLOWLIST: '127.0.0.1/32' } });
    apps.push(v6, v4only);
    assert.match(v6.url, /^http:\/\/\[::1\]:/);
    const headers = { authorization: `Bearer ${SECRET}` };
    const allowed = await new HttpClient(v6.url).post<ErrorBody>('/cron/jobs/ip-probe/run', { headers });
    assert.ok(passedGuard(allowed), `::1 is inside ::1/128 (got ${allowed.status} ${allowed.text})`);
    const refused = await new HttpClient(v4only.url).post<ErrorBody>('/cron/run', { headers });
    assert.equal(refused.status, 403, '::1 is not 127.0.0.1');
    assert.equal(errorCode(refused), 'IP_NOT_ALLOWED');
  });
});
