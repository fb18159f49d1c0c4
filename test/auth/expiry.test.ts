import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, loggedInClient, type ErrorBody } from './support.js';

const PASSWORD = 'expiry password';
const MINUTE = 60_000;
const DAY = 86_400_000;

describe('session and token expiry on the injected clock', () => {
  let t: TestApp;
  const clock = new TestClock(Date.UTC(2026, 4, 1));
  before(async () => {
    // Idle 1 day, absolute 3 days, refresh tokens 2 days, access 5 minutes.
    t = await startTestApp({
      clock,
      env: { SESSION_IDLE_TTL: '86400', SESSION_ABSOLUTE_TTL: '259200', REFRESH_TOKEN_TTL: '172800', ACCESS_TOKEN_TTL: '300' },
    });
    await createUser(t, { email: 'expiry@example.com', password: PASSWORD });
  });
  after(async () => t.stop());

  const refresh = (http: HttpClient) => http.post<ErrorBody>('/api/v1/login/refresh/');

  it('access tokens expire after their TTL; a refresh brings a fresh one', async () => {
    const http = await loggedInClient(t, 'expiry@example.com', PASSWORD);
    const token = http.cookie('access_token') as string;
    clock.advance(5 * MINUTE - 1000);
    assert.equal((await http.get('/api/v1/me/')).status, 200);
    clock.advance(1000);
    const expired = new HttpClient(t.url);
    expired.jar.set('access_token', token);
    assert.equal((await expired.get('/api/v1/me/')).status, 401, 'expired, even though it was cached');
    assert.equal((await refresh(http)).status, 200);
    assert.equal((await http.get('/api/v1/me/')).status, 200);
  });

  it('idle expiry: a session unused for longer than SESSION_IDLE_TTL cannot refresh', async () => {
    const http = await loggedInClient(t, 'expiry@example.com', PASSWORD);
    clock.advance(DAY + 1000);
    const response = await refresh(http);
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'SESSION_EXPIRED');
    assert.match(response.setCookies.refresh_token ?? '', /Expires=Thu, 01 Jan 1970/i, 'the dead cookies are cleared');
  });

  it('refreshing extends the idle expiry, but never past the absolute expiry', async () => {
    const http = await loggedInClient(t, 'expiry@example.com', PASSWORD);
    for (let i = 0; i < 5; i += 1) {
      clock.advance(DAY / 2);
      assert.equal((await refresh(http)).status, 200, `refresh ${i} after half a day`);
    }
    // 2.5 days in; the absolute limit is 3 days.
    clock.advance(DAY / 2 - 1000);
    assert.equal((await refresh(http)).status, 200, 'just before the absolute expiry');
    clock.advance(2000);
    const response = await refresh(http);
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'SESSION_EXPIRED');
  });
});
