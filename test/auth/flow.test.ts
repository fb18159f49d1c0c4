import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient, type ErrorBody } from './support.js';

const EMAIL = 'flow@example.com';
const PASSWORD = 'correct horse battery';

describe('login → test → refresh → reuse → logout', () => {
  let t: TestApp;
  const clock = new TestClock(Date.UTC(2026, 2, 1, 12));
  before(async () => {
    t = await startTestApp({ clock });
    await createUser(t, { email: EMAIL, password: PASSWORD });
  });
  after(async () => t.stop());

  it('logs in with JSON, urlencoded and multipart bodies and sets the three cookies', async () => {
    for (const kind of ['json', 'form', 'multipart'] as const) {
      const http = new HttpClient(t.url);
      const credentials = { email: ' Flow@Example.com ', password: PASSWORD };
      const response = await http.post<{ user: { email: string; is_active: boolean }; session_id: string }>('/api/v1/login/', {
        [kind]: credentials,
      });
      assert.equal(response.status, 200, `${kind}: ${response.text}`);
      assert.equal(response.body.user.email, EMAIL);
      assert.equal(response.body.user.is_active, true);
      assert.ok(!response.text.includes('password_hash') && !response.text.includes('argon2'));
      const access = response.setCookies.access_token ?? '';
      const refresh = response.setCookies.refresh_token ?? '';
      const csrf = response.setCookies.csrftoken ?? '';
      assert.match(access, /HttpOnly/i);
      assert.match(access, /SameSite=Lax/i);
      assert.match(access, /Path=\/(;|$)/);
      assert.match(refresh, /HttpOnly/i);
      assert.match(refresh, /SameSite=Strict/i);
      assert.match(refresh, /Path=\/api\/v1\//);
      assert.doesNotMatch(csrf, /HttpOnly/i);
      // COOKIE_SECURE=false in tests.
      assert.doesNotMatch(access, /Secure/i);
    }
  });

  it('marks cookies Secure unless COOKIE_SECURE=false', async () => {
    const secure = await startTestApp({ env: { COOKIE_SECURE: 'true' }, database: t.database });
    try {
      const response = await new HttpClient(secure.url).post('/api/v1/login/', { json: { email: EMAIL, password: PASSWORD } });
      assert.equal(response.status, 200);
      for (const name of ['access_token', 'refresh_token', 'csrftoken']) assert.match(response.setCookies[name] ?? '', /; Secure/i, name);
    } finally {
      await secure.stop();
    }
  });

  it('runs the whole cookie flow, with theft detection after the grace', async () => {
    const http = await loggedInClient(t, EMAIL, PASSWORD);
    const me = await http.get<{ id: number; email: string; role: string }>('/api/v1/me/');
    assert.equal(me.status, 200);
    assert.deepEqual(Object.keys(me.body).sort(), ['email', 'id', 'role']);
    assert.equal(me.body.email, EMAIL);

    const test = await http.post<{ user: { email: string } }>('/api/v1/test/', { headers: csrfHeaders(http) });
    assert.equal(test.status, 200, test.text);
    assert.equal(test.body.user.email, EMAIL);

    const firstRefresh = http.cookie('refresh_token') as string;
    const firstAccess = http.cookie('access_token') as string;
    clock.advance(1000);
    const refreshed = await http.post('/api/v1/login/refresh/');
    assert.equal(refreshed.status, 200, refreshed.text);
    const successor = http.cookie('refresh_token') as string;
    assert.notEqual(successor, firstRefresh, 'the refresh token rotates');
    assert.notEqual(http.cookie('access_token'), firstAccess, 'a new access token');

    // Parallel tabs presenting the rotated token within the grace all get the same successor.
    const tabs = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        const tab = new HttpClient(t.url);
        tab.jar.set('refresh_token', successor);
        const response = await tab.post('/api/v1/login/refresh/');
        return { status: response.status, token: tab.cookie('refresh_token') };
      }),
    );
    assert.deepEqual(new Set(tabs.map((tab) => tab.status)), new Set([200]));
    assert.equal(new Set(tabs.map((tab) => tab.token)).size, 1, 'one successor for every tab');
    const second = tabs[0]?.token as string;
    assert.notEqual(second, successor);
    // The original (first) rotated token within the grace still yields its successor.
    const late = new HttpClient(t.url);
    late.jar.set('refresh_token', firstRefresh);
    assert.equal((await late.post('/api/v1/login/refresh/')).status, 200);
    assert.equal(late.cookie('refresh_token'), successor);

    // After the grace, presenting a rotated token is theft: the whole session goes.
    clock.advance(21_000);
    const thief = new HttpClient(t.url);
    thief.jar.set('refresh_token', firstRefresh);
    const stolen = await thief.post<ErrorBody>('/api/v1/login/refresh/');
    assert.equal(stolen.status, 401);
    assert.equal(stolen.body.error.code, 'INVALID_TOKEN');
    // The current successor of the session is dead too.
    const victim = new HttpClient(t.url);
    victim.jar.set('refresh_token', second);
    assert.equal((await victim.post('/api/v1/login/refresh/')).status, 401);

    // The access token held by the client is refused once the view refreshes (the refresher does it every second).
    assert.equal((await http.get('/api/v1/me/')).status, 200, 'not yet: the view has not refreshed');
    await t.app.services.auth.view.refreshNow();
    const refused = await http.get<ErrorBody>('/api/v1/me/');
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'UNAUTHENTICATED');
    const verified = await http.post<ErrorBody>('/api/v1/verify/', { json: { token: http.cookie('access_token') } });
    assert.equal(verified.status, 401);
    assert.equal(verified.body.error.code, 'INVALID_TOKEN');
  });

  it('verifies a token: 200 with the user and session id', async () => {
    const http = await loggedInClient(t, EMAIL, PASSWORD);
    const response = await new HttpClient(t.url).post<{ user: { email: string }; session_id: string }>('/api/v1/verify/', {
      json: { token: http.cookie('access_token') },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.user.email, EMAIL);
    assert.ok(response.body.session_id.length > 10);
  });

  it('logs out: revokes the session and its refresh token and clears the cookies', async () => {
    const http = await loggedInClient(t, EMAIL, PASSWORD);
    const access = http.cookie('access_token') as string;
    const refresh = http.cookie('refresh_token') as string;
    const response = await http.post('/api/v1/logout/', { headers: csrfHeaders(http) });
    assert.equal(response.status, 200, response.text);
    for (const name of ['access_token', 'refresh_token', 'csrftoken']) {
      assert.match(response.setCookies[name] ?? '', /Expires=Thu, 01 Jan 1970|Max-Age=0/i, `${name} cleared`);
    }
    assert.match(response.setCookies.refresh_token ?? '', /Path=\/api\/v1\//);
    assert.equal(http.jar.size, 0);
    // The same instance refuses the access token at once (its view is refreshed in the same process)...
    await t.app.services.auth.view.refreshNow();
    const again = new HttpClient(t.url);
    again.jar.set('access_token', access);
    assert.equal((await again.get('/api/v1/me/')).status, 401);
    // ...and the refresh token is dead.
    const reuse = new HttpClient(t.url);
    reuse.jar.set('refresh_token', refresh);
    const refused = await reuse.post<ErrorBody>('/api/v1/login/refresh/');
    assert.equal(refused.status, 401);
  });

  it('refuses an inactive user and a wrong password with the same 401', async () => {
    await createUser(t, { email: 'inactive@example.com', password: PASSWORD, active: false });
    const http = new HttpClient(t.url);
    const inactive = await http.post<ErrorBody>('/api/v1/login/', { json: { email: 'inactive@example.com', password: PASSWORD } });
    const wrong = await http.post<ErrorBody>('/api/v1/login/', { json: { email: EMAIL, password: 'wrong password' } });
    const unknown = await http.post<ErrorBody>('/api/v1/login/', { json: { email: 'nobody@example.com', password: PASSWORD } });
    for (const response of [inactive, wrong, unknown]) {
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'INVALID_CREDENTIALS');
      assert.equal(response.body.error.message, inactive.body.error.message);
      assert.equal(response.headers.getSetCookie().length, 0);
    }
  });

  it('upgrades an outdated password hash at login', async () => {
    const weak = await startTestApp({ env: { ARGON2_MEMORY_KIB: '2048' }, database: t.database });
    try {
      await createUser(weak, { email: 'rehash@example.com', password: PASSWORD });
    } finally {
      await weak.stop();
    }
    const before = await t.app.services.users.findByEmail('rehash@example.com');
    assert.match(before?.password_hash ?? '', /m=2048/);
    await loggedInClient(t, 'rehash@example.com', PASSWORD);
    const after = await t.app.services.users.findByEmail('rehash@example.com');
    assert.match(after?.password_hash ?? '', /m=1024,t=1,p=1/);
    await loggedInClient(t, 'rehash@example.com', PASSWORD);
  });
});
