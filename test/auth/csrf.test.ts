import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, loggedInClient, type ErrorBody } from './support.js';

const PASSWORD = 'csrf password 123';
const ALLOWED = 'https://app.example.com';

describe('CSRF: signed double-submit bound to the session', () => {
  let t: TestApp;
  let alice: HttpClient;
  let bob: HttpClient;
  before(async () => {
    t = await startTestApp({ env: { ALLOWED_ORIGINS: `${ALLOWED},http://localhost:3000` } });
    await createUser(t, { email: 'alice@example.com', password: PASSWORD });
    await createUser(t, { email: 'bob@example.com', password: PASSWORD });
    alice = await loggedInClient(t, 'alice@example.com', PASSWORD);
    bob = await loggedInClient(t, 'bob@example.com', PASSWORD);
  });
  after(async () => t.stop());

  const aliceCsrf = () => alice.cookie('csrftoken') as string;
  const bobCsrf = () => bob.cookie('csrftoken') as string;
  /** Alice's access cookie with the given csrftoken cookie (or none). */
  const cookieWith = (csrf: string | undefined) =>
    [`access_token=${alice.cookie('access_token') as string}`, ...(csrf === undefined ? [] : [`csrftoken=${csrf}`])].join('; ');

  const cases: Array<{ name: string; headers: () => Record<string, string>; status: number; code?: string }> = [
    { name: 'matching header and cookie, no Origin', headers: () => ({ cookie: cookieWith(aliceCsrf()), 'x-csrftoken': aliceCsrf() }), status: 200 },
    {
      name: 'matching token from an allowed Origin',
      headers: () => ({ cookie: cookieWith(aliceCsrf()), 'x-csrftoken': aliceCsrf(), origin: ALLOWED }),
      status: 200,
    },
    { name: 'missing header', headers: () => ({ cookie: cookieWith(aliceCsrf()) }), status: 403, code: 'CSRF_FAILED' },
    { name: 'missing cookie', headers: () => ({ cookie: cookieWith(undefined), 'x-csrftoken': aliceCsrf() }), status: 403, code: 'CSRF_FAILED' },
    {
      name: 'header differs from cookie',
      headers: () => ({ cookie: cookieWith(aliceCsrf()), 'x-csrftoken': `${aliceCsrf()}x` }),
      status: 403,
      code: 'CSRF_FAILED',
    },
    {
      name: 'well-formed but forged token in both places',
      headers: () => ({ cookie: cookieWith('bm9uY2U.Zm9yZ2Vk'), 'x-csrftoken': 'bm9uY2U.Zm9yZ2Vk' }),
      status: 403,
      code: 'CSRF_FAILED',
    },
    {
      name: "another session's valid token in both places (cookie tossing)",
      headers: () => ({ cookie: cookieWith(bobCsrf()), 'x-csrftoken': bobCsrf() }),
      status: 403,
      code: 'CSRF_FAILED',
    },
    {
      name: 'a foreign Origin, even with a valid token',
      headers: () => ({ cookie: cookieWith(aliceCsrf()), 'x-csrftoken': aliceCsrf(), origin: 'https://evil.example' }),
      status: 403,
      code: 'CSRF_FAILED',
    },
    {
      name: 'Origin: null',
      headers: () => ({ cookie: cookieWith(aliceCsrf()), 'x-csrftoken': aliceCsrf(), origin: 'null' }),
      status: 403,
      code: 'CSRF_FAILED',
    },
    {
      name: 'no access cookie at all: 401 before any CSRF check',
      headers: () => ({ cookie: `csrftoken=${aliceCsrf()}`, origin: 'https://evil.example' }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
    {
      name: 'a garbage access cookie: 401',
      headers: () => ({ cookie: `access_token=not.a.jwt; csrftoken=${aliceCsrf()}`, 'x-csrftoken': aliceCsrf() }),
      status: 401,
      code: 'UNAUTHENTICATED',
    },
  ];

  for (const route of ['/api/v1/test/', '/api/v1/test']) {
    for (const testCase of cases) {
      it(`POST ${route}: ${testCase.name} → ${testCase.status}`, async () => {
        const response = await new HttpClient(t.url).post<ErrorBody>(route, { headers: testCase.headers(), cookies: false });
        assert.equal(response.status, testCase.status, response.text);
        if (testCase.code) assert.equal(response.body.error.code, testCase.code);
      });
    }
  }

  it('does not ask for CSRF on safe methods or with a Bearer token', async () => {
    assert.equal((await alice.get('/api/v1/me/')).status, 200);
    const bearer = await new HttpClient(t.url).post('/api/v1/test/', {
      headers: { authorization: `Bearer ${alice.cookie('access_token') as string}`, origin: 'https://evil.example' },
      cookies: false,
    });
    assert.equal(bearer.status, 200, bearer.text);
  });

  it('logout needs CSRF too', async () => {
    const response = await alice.post<ErrorBody>('/api/v1/logout/');
    assert.equal(response.status, 403);
    assert.equal(response.body.error.code, 'CSRF_FAILED');
    assert.equal((await alice.get('/api/v1/me/')).status, 200, 'the session survived');
  });

  it('a refreshed csrftoken stays bound to the same session', async () => {
    const before = bobCsrf();
    assert.equal((await bob.post('/api/v1/login/refresh/')).status, 200);
    assert.notEqual(bobCsrf(), before);
    const response = await bob.post('/api/v1/test/', { headers: { 'x-csrftoken': bobCsrf() } });
    assert.equal(response.status, 200, response.text);
  });
});
