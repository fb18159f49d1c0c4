import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, type ErrorBody } from './support.js';

const PASSWORD = 'the real password';

describe('brute-force limits, shared by two instances on one database', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const clock = new TestClock(Date.UTC(2026, 3, 1));
  before(async () => {
    database = await createTestDatabase();
    const env = { TRUST_PROXY: 'true', LOGIN_ACCOUNT_FREE_FAILURES: '3', LOGIN_IP_MAX_FAILURES: '8', LOGIN_IP_WINDOW: '600' };
    a = await startTestApp({ database, clock, env });
    b = await startTestApp({ database, clock, env });
    await createUser(a, { email: 'victim@example.com', password: PASSWORD });
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await database.drop();
  });

  const attempt = (t: TestApp, email: string, password: string, ip = '10.0.0.1') =>
    new HttpClient(t.url).post<ErrorBody>('/api/v1/login/', { json: { email, password }, headers: { 'x-forwarded-for': ip } });

  it('locks an account after the free failures, across instances, with a growing Retry-After', async () => {
    for (const t of [a, b, a]) assert.equal((await attempt(t, 'victim@example.com', 'wrong')).status, 401);
    // The third failure (on A) started a 1 s back-off that B honours: counted in the database.
    const limited = await attempt(b, 'victim@example.com', PASSWORD);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    assert.equal(limited.headers.get('retry-after'), '1');

    clock.advance(1000);
    assert.equal((await attempt(b, 'victim@example.com', 'wrong')).status, 401);
    const longer = await attempt(a, 'victim@example.com', PASSWORD);
    assert.equal(longer.status, 429);
    assert.equal(longer.headers.get('retry-after'), '2', 'the back-off doubles');

    clock.advance(2000);
    assert.equal((await attempt(a, 'victim@example.com', PASSWORD)).status, 200, 'the right password works once the lock ends');
    // Success clears the account counter: the next failure is a free one again.
    assert.equal((await attempt(b, 'victim@example.com', 'wrong')).status, 401);
    assert.equal((await attempt(b, 'victim@example.com', PASSWORD)).status, 200);
  });

  it('caps the account back-off', async () => {
    const capped = await startTestApp({ database, clock, env: { TRUST_PROXY: 'true', LOGIN_ACCOUNT_FREE_FAILURES: '1', LOGIN_ACCOUNT_MAX_LOCK: '5' } });
    try {
      await createUser(capped, { email: 'capped@example.com', password: PASSWORD });
      let retryAfter = '';
      for (let i = 0; i < 6; i += 1) {
        assert.equal((await attempt(capped, 'capped@example.com', 'wrong', `10.1.0.${i}`)).status, 401);
        const limited = await attempt(capped, 'capped@example.com', 'wrong', `10.1.0.${i}`);
        assert.equal(limited.status, 429);
        retryAfter = limited.headers.get('retry-after') ?? '';
        clock.advance(Number(retryAfter) * 1000);
      }
      assert.equal(retryAfter, '5');
    } finally {
      await capped.stop();
    }
  });

  it('limits failures per IP across accounts, and only that IP', async () => {
    const ip = '10.9.9.9';
    // a fresh window for this IP: 8 failures with different (unknown) emails.
    for (let i = 0; i < 8; i += 1) {
      const t = i % 2 === 0 ? a : b;
      assert.equal((await attempt(t, `nobody${i}@example.com`, 'guess', ip)).status, 401);
    }
    const limited = await attempt(a, 'victim@example.com', PASSWORD, ip);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '600');
    assert.equal((await attempt(b, 'victim@example.com', PASSWORD, '10.9.9.10')).status, 200, 'another IP is unaffected');
    clock.advance(600_000);
    assert.equal((await attempt(b, 'victim@example.com', PASSWORD, ip)).status, 200, 'the window ends');
  });
});
