import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/database.js';
import { createUser } from './support.js';

/**
 * The login limiter reserves an attempt before the password check, so an
 * attempt still being checked holds its place in the limit. A refusal caused
 * by such attempts must say so ("in progress", Retry-After 1 s), not "Too
 * many failed logins" when nothing failed; and a success releases its place.
 * The password checks are held at a gate so "simultaneous" is exact, and the
 * clock is frozen so no lock expires meanwhile.
 */
const PASSWORD = 'the right password';

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  retryAfter: string | null;
}

describe(`login refusals say whether attempts failed or are still in flight (${testEngine()})`, () => {
  const clock = new TestClock(Date.UTC(2026, 10, 30, 12));
  let t: TestApp;
  let nextIp = 0;
  /** A fresh address per request unless one is given, so the per-IP rule stays out of the per-account tests. */
  const ip = () => `10.77.${(nextIp >> 8) & 255}.${nextIp++ & 255}`;

  before(async () => {
    t = await startTestApp({ clock, env: { TRUST_PROXY: '1', LOGIN_ACCOUNT_FREE_FAILURES: '5', LOGIN_IP_MAX_FAILURES: '3' } });
  });
  after(async () => t.stop());

  const login = async (email: string, password: string, from = ip()): Promise<Answer> => {
    const response = await fetch(`${t.url}/api/v1/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ email, password }),
    });
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    return { status: response.status, code: body.error?.code, message: body.error?.message, retryAfter: response.headers.get('retry-after') };
  };

  /** The open gate, released after each test even when it fails (a held check would hang the next test). */
  let current: { release(): void } | undefined;
  afterEach(() => {
    current?.release();
    current = undefined;
  });

  /** Holds every password check until release(); counts the checks waiting. */
  const gate = () => {
    const hasher = t.app.services.passwords;
    const original = hasher.verify.bind(hasher);
    let open: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    let waiting = 0;
    hasher.verify = async (hash: string, password: string) => {
      waiting += 1;
      await opened;
      return original(hash, password);
    };
    const held = {
      waiting: () => waiting,
      release() {
        hasher.verify = original;
        open();
      },
    };
    current = held;
    return held;
  };

  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 500 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(check(), what);
  };

  const inProgress = (answer: Answer, what: string) => {
    assert.equal(answer.status, 429, what);
    assert.equal(answer.code, 'RATE_LIMITED', what);
    assert.match(answer.message ?? '', /too many login attempts are in progress/i, what);
    assert.doesNotMatch(answer.message ?? '', /failed/i, what);
    assert.equal(answer.retryAfter, '1', what);
  };

  it('the sixth simultaneous correct login is refused as "in progress", not as failed; the five succeed and release their places', async () => {
    await createUser(t, { email: 'busy@example.com', password: PASSWORD });
    const held = gate();
    const five = Array.from({ length: 5 }, () => login('busy@example.com', PASSWORD));
    await until(() => held.waiting() === 5, 'five password checks in flight');
    inProgress(await login('busy@example.com', PASSWORD), 'the sixth');
    assert.equal(held.waiting(), 5, 'the refused attempt ran no password check');
    held.release();
    assert.deepEqual((await Promise.all(five)).map((answer) => answer.status), [200, 200, 200, 200, 200]);

    // The successes released their reservations: the frozen clock has not moved past any lock, yet...
    assert.equal((await login('busy@example.com', PASSWORD)).status, 200, 'a seventh login goes through at once');
    // ...and none of them counts toward the failure limit: five wrong passwords still run, the sixth is refused as failed.
    for (let i = 0; i < 5; i += 1) assert.equal((await login('busy@example.com', `wrong ${i}`)).status, 401, `wrong ${i}`);
    const locked = await login('busy@example.com', PASSWORD);
    assert.equal(locked.status, 429);
    assert.equal(locked.code, 'RATE_LIMITED');
    assert.match(locked.message ?? '', /Too many failed logins/);
    assert.ok(Number(locked.retryAfter) >= 1, `Retry-After ${String(locked.retryAfter)}`);
  });

  it('four failures and a fifth attempt in flight: "in progress"; once that one fails, "failed logins"', async () => {
    await createUser(t, { email: 'mixed@example.com', password: PASSWORD });
    for (let i = 0; i < 4; i += 1) assert.equal((await login('mixed@example.com', `wrong ${i}`)).status, 401);
    const held = gate();
    const fifth = login('mixed@example.com', 'wrong 4');
    await until(() => held.waiting() === 1, 'the fifth check in flight');
    inProgress(await login('mixed@example.com', PASSWORD), 'while the fifth is checked');
    held.release();
    assert.equal((await fifth).status, 401);
    const after = await login('mixed@example.com', PASSWORD);
    assert.equal(after.status, 429);
    assert.match(after.message ?? '', /Too many failed logins/);
  });

  it('the read-only check (account settings, service clients) gives the same two answers', async () => {
    await createUser(t, { email: 'settings@example.com', password: PASSWORD });
    const { limiter } = t.app.services.auth;
    const from = '10.99.0.1';
    for (let i = 0; i < 4; i += 1) assert.equal((await login('settings@example.com', `wrong ${i}`)).status, 401);
    const held = gate();
    const fifth = login('settings@example.com', 'wrong 4');
    await until(() => held.waiting() === 1, 'the fifth check in flight');
    const refusal = async () => {
      try {
        await limiter.check('settings@example.com', from);
      } catch (error) {
        const { code, message, headers } = error as { code?: string; message: string; headers?: Record<string, string> };
        return { status: 429, code, message, retryAfter: headers?.['retry-after'] ?? null };
      }
      return assert.fail('check() let a locked account through');
    };
    inProgress(await refusal(), 'check() while the fifth is checked');
    held.release();
    assert.equal((await fifth).status, 401);
    assert.match((await refusal()).message, /Too many failed logins/);
  });

  it('per address: the fourth simultaneous correct login from one IP (limit 3) is "in progress"; successes lift the lock', async () => {
    const office = '10.88.0.1';
    for (const name of ['ann', 'ben', 'cy', 'dot']) await createUser(t, { email: `${name}@office.example`, password: PASSWORD });
    const held = gate();
    const three = ['ann', 'ben', 'cy'].map((name) => login(`${name}@office.example`, PASSWORD, office));
    await until(() => held.waiting() === 3, 'three checks in flight from one address');
    inProgress(await login('dot@office.example', PASSWORD, office), 'the fourth from the office');
    held.release();
    assert.deepEqual((await Promise.all(three)).map((answer) => answer.status), [200, 200, 200]);
    assert.equal((await login('dot@office.example', PASSWORD, office)).status, 200, 'the address is not locked by logins that succeeded');

    // Failures from the address still lock it: three wrong passwords, then "failed logins" until the window ends.
    for (const name of ['ann', 'ben', 'cy']) assert.equal((await login(`${name}@office.example`, 'wrong', office)).status, 401);
    const locked = await login('dot@office.example', PASSWORD, office);
    assert.equal(locked.status, 429);
    assert.match(locked.message ?? '', /Too many failed logins/);
    assert.ok(Number(locked.retryAfter) > 1, `Retry-After ${String(locked.retryAfter)}: until the window ends`);
  });
});
