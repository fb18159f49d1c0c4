import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { throttleRoute } from '../../src/triggers/throttle-key.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { HttpClient } from '../helpers/http.js';
import { SECRET } from './helpers.js';

/** Sends one raw HTTP/1.1 request (any request target, as a client may write it) and returns the status. */
async function rawStatus(baseUrl: string, method: string, target: string, headers: Record<string, string>): Promise<number> {
  return (await raw(baseUrl, method, target, headers)).status;
}

/** The same, with the whole answer's text. */
async function raw(baseUrl: string, method: string, target: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(baseUrl);
  const head = [`${method} ${target} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close', 'content-length: 0'];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    // write, not end: a half-closed client makes Node abort a request still waiting on the database (PostgreSQL); `connection: close` ends it.
    const socket = connect(Number(port), hostname, () => socket.write(`${head.join('\r\n')}\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });
}

describe('throttleRoute: the bucket is the route and its parameters, not the raw target', () => {
  const cases: Array<[string, unknown, string]> = [
    ['/cron/run', {}, '/cron/run'],
    ['/cron/jobs/:name/run', { name: 'flush-expired-tokens' }, '/cron/jobs/flush-expired-tokens/run'],
    ['/api/v1/auth/cron/flush-tokens/', {}, '/api/v1/auth/cron/flush-tokens'],
    ['/cron/jobs/:name/run', undefined, '/cron/jobs/:name/run'],
  ];
  for (const [pattern, params, expected] of cases) {
    it(`${pattern} ${JSON.stringify(params)} -> ${expected}`, () => assert.equal(throttleRoute(pattern, params), expected));
  }
});

describe('trigger throttle over HTTP: one bucket per route and caller (issue 16 #11), tiers (issue 13 §4)', () => {
  const clock = new TestClock(Date.UTC(2026, 2, 10, 13, 0, 0));
  let database: TestDatabase;
  let single: TestApp;
  let a: TestApp;
  let b: TestApp;
  const bearer = { authorization: `Bearer ${SECRET}` };

  before(async () => {
    database = await createTestDatabase();
    single = await startTestApp({ clock, env: { CRON_SECRETS: SECRET, CRON_THROTTLE: '3/10m' } });
    a = await startTestApp({ database, clock, env: { CRON_SECRETS: SECRET, CRON_THROTTLE: '3/10m,1/1m' } });
    b = await startTestApp({ database, clock, env: { CRON_SECRETS: SECRET, CRON_THROTTLE: '3/10m,1/1m' } });
  });
  after(async () => {
    await single.stop();
    await a.stop();
    await b.stop();
    await database.drop();
  });

  it('absolute-form targets, a trailing # or /, a query string and percent-escapes share one budget', async () => {
    const path = '/cron/jobs/throttle-key/run';
    const spellings = [
      path,
      `http://any-host.example${path}`,
      `${path}#`,
      `${path}/`,
      `${path}?dry_run=1`,
      '/cron/jobs/throttle%2Dkey/run',
      `http://other.example:9${path}`,
    ];
    const statuses: number[] = [];
    for (const target of spellings) statuses.push(await rawStatus(single.url, 'POST', target, bearer));
    // The first three fit the budget of 3 (the job does not exist: 404 after the guard); the rest are over it.
    assert.deepEqual(statuses, [404, 404, 404, 429, 429, 429, 429]);
    // Doubled slashes: either the same bucket (429) or no route at all; never a fresh budget.
    const doubled = await raw(single.url, 'POST', `/${path}`, bearer);
    assert.ok(doubled.status === 429 || (doubled.status === 404 && doubled.text.includes('ROUTE_NOT_FOUND')), `doubled slash: ${doubled.text}`);
    // Another job keeps its own budget.
    assert.equal(await rawStatus(single.url, 'POST', '/cron/jobs/other-job/run', bearer), 404);
  });

  it('CRON_THROTTLE=3/10m,1/1m: both tiers hold across two instances; 429 carries the refusing tier\'s Retry-After', async () => {
    const route = '/cron/jobs/tier-probe/run';
    const call = (t: TestApp) => new HttpClient(t.url).post(route, { headers: bearer });
    assert.equal((await call(a)).status, 404, 'first call: past the guard');
    const minute = await call(b);
    assert.equal(minute.status, 429, 'the 1/1m tier refuses the second call within the minute, on the other instance');
    assert.equal(minute.headers.get('retry-after'), '60');
    clock.advance(60_000);
    assert.equal((await call(b)).status, 404);
    clock.advance(60_000);
    assert.equal((await call(a)).status, 404, 'the third call of the 10-minute window');
    clock.advance(60_000);
    const window = await call(b);
    assert.equal(window.status, 429, 'the 3/10m tier refuses the fourth');
    assert.equal(window.headers.get('retry-after'), '420', 'seconds to the end of the 10-minute window');
  });
});
