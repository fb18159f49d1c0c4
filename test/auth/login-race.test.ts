import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createUser } from './support.js';

/**
 * Issue 16 #6: 300 concurrent wrong logins to one account checked 153
 * passwords against a limit of 5, because the lock was read before hashing
 * and written after. The attempt is now reserved atomically before the hash.
 * Two instances on one database (SQLite file or PostgreSQL schema, whichever
 * this run tests), a frozen clock, so no lock can expire during the burst.
 */
const PASSWORD = 'the real password';
const BURST = 300;

describe('concurrent wrong logins cannot outrun the limiter (two instances, one database)', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const clock = new TestClock(Date.UTC(2026, 3, 1));
  const env = { TRUST_PROXY: '1', LOGIN_ACCOUNT_FREE_FAILURES: '5', LOGIN_IP_MAX_FAILURES: '8' };

  before(async () => {
    database = await createTestDatabase();
    a = await startTestApp({ database, clock, env });
    b = await startTestApp({ database, clock, env });
    await createUser(a, { email: 'victim@example.com', password: PASSWORD });
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await database.drop();
  });

  const checks = () => a.app.services.passwords.checks + b.app.services.passwords.checks;
  const login = (t: TestApp, email: string, password: string, ip: string) =>
    fetch(`${t.url}/api/v1/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ email, password }),
    }).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });

  it(`${BURST} concurrent wrong passwords for one account, from ${BURST} addresses: at most LOGIN_ACCOUNT_FREE_FAILURES (5) password checks`, async () => {
    const before = checks();
    const statuses = await Promise.all(
      Array.from({ length: BURST }, (_, index) => login(index % 2 === 0 ? a : b, 'victim@example.com', `wrong ${index}`, `10.20.${index >> 8}.${index & 255}`)),
    );
    const ran = checks() - before;
    console.log(`password checks run by ${BURST} concurrent wrong logins: ${ran} (limit 5)`);
    assert.equal(ran, 5, `password checks: ${ran}`);
    assert.equal(statuses.filter((status) => status === 401).length, 5);
    assert.equal(statuses.filter((status) => status === 429).length, BURST - 5);
    // The right password waits for the lock like everyone else, then works.
    assert.equal(await login(a, 'victim@example.com', PASSWORD, '10.30.0.1'), 429);
    clock.advance(1000);
    assert.equal(await login(b, 'victim@example.com', PASSWORD, '10.30.0.1'), 200);
  });

  it(`${BURST} concurrent wrong logins from one address to ${BURST} accounts: at most LOGIN_IP_MAX_FAILURES (8) password checks`, async () => {
    const before = checks();
    const statuses = await Promise.all(
      Array.from({ length: BURST }, (_, index) => login(index % 2 === 0 ? a : b, `nobody${index}@example.com`, 'guess', '10.40.0.1')),
    );
    const ran = checks() - before;
    assert.equal(ran, 8, `password checks: ${ran}`);
    assert.equal(statuses.filter((status) => status === 429).length, BURST - 8);
  });

  it('the password-check count is exported as curfew_password_checks_total', async () => {
    const text = await (await fetch(`${a.url}/metrics`)).text();
    const match = /^curfew_password_checks_total (\d+)$/m.exec(text);
    assert.equal(Number(match?.[1]), a.app.services.passwords.checks);
  });
});
