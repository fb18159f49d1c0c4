import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnsecuredJWT } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient, type RequestOptions } from '../helpers/http.js';
import { createUser, loggedInClient, type ErrorBody } from './support.js';

const PASSWORD = 'bad input password';

interface Case {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly options: () => RequestOptions;
  readonly status: number;
  readonly code: string;
}

describe('bad input on the auth routes: stable 4xx codes, nothing written', () => {
  let t: TestApp;
  let refreshToken = '';
  before(async () => {
    t = await startTestApp();
    await createUser(t, { email: 'input@example.com', password: PASSWORD });
    refreshToken = (await loggedInClient(t, 'input@example.com', PASSWORD)).cookie('refresh_token') as string;
  });
  after(async () => t.stop());

  const unsigned = () => new UnsecuredJWT({ sid: 'x', sct: 0, email: 'input@example.com', role: 'admin' }).setSubject('1').encode();
  const cases: Case[] = [
    // POST /api/v1/login/
    { name: 'empty JSON body', method: 'POST', path: '/api/v1/login/', options: () => ({ body: '', headers: { 'content-type': 'application/json' } }), status: 400, code: 'INVALID_JSON' },
    { name: 'malformed JSON', method: 'POST', path: '/api/v1/login/', options: () => ({ body: '{"email":', headers: { 'content-type': 'application/json' } }), status: 400, code: 'INVALID_JSON' },
    { name: 'missing fields', method: 'POST', path: '/api/v1/login/', options: () => ({ json: {} }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'missing password (form)', method: 'POST', path: '/api/v1/login/', options: () => ({ form: { email: 'input@example.com' } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'number as email', method: 'POST', path: '/api/v1/login/', options: () => ({ json: { email: 5, password: PASSWORD } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'array as password', method: 'POST', path: '/api/v1/login/', options: () => ({ json: { email: 'input@example.com', password: [PASSWORD] } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'empty password', method: 'POST', path: '/api/v1/login/', options: () => ({ json: { email: 'input@example.com', password: '' } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'oversized password', method: 'POST', path: '/api/v1/login/', options: () => ({ json: { email: 'input@example.com', password: 'p'.repeat(1025) } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'oversized email', method: 'POST', path: '/api/v1/login/', options: () => ({ json: { email: `${'e'.repeat(320)}@x.com`, password: PASSWORD } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'unknown field', method: 'POST', path: '/api/v1/login/', options: () => ({ json: { email: 'input@example.com', password: PASSWORD, admin: true } }), status: 400, code: 'UNKNOWN_FIELD' },
    { name: 'JSON array body', method: 'POST', path: '/api/v1/login/', options: () => ({ json: ['input@example.com', PASSWORD] }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'text/plain body', method: 'POST', path: '/api/v1/login/', options: () => ({ body: 'email=x', headers: { 'content-type': 'text/plain' } }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'XML body', method: 'POST', path: '/api/v1/login/', options: () => ({ body: '<email/>', headers: { 'content-type': 'application/xml' } }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'body over the limit', method: 'POST', path: '/api/v1/login/', options: () => ({ json: { email: 'input@example.com', password: 'p'.repeat(70_000) } }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
    { name: 'GET instead of POST', method: 'GET', path: '/api/v1/login/', options: () => ({}), status: 404, code: 'ROUTE_NOT_FOUND' },
    // POST /api/v1/login/refresh/
    { name: 'no refresh cookie', method: 'POST', path: '/api/v1/login/refresh/', options: () => ({ cookies: false }), status: 401, code: 'UNAUTHENTICATED' },
    { name: 'garbage refresh cookie', method: 'POST', path: '/api/v1/login/refresh/', options: () => ({ headers: { cookie: 'refresh_token=garbage' } }), status: 401, code: 'INVALID_TOKEN' },
    { name: 'huge refresh cookie', method: 'POST', path: '/api/v1/login/refresh/', options: () => ({ headers: { cookie: `refresh_token=${'a'.repeat(4000)}` } }), status: 401, code: 'INVALID_TOKEN' },
    { name: 'refresh token sent as access cookie', method: 'GET', path: '/api/v1/me/', options: () => ({ headers: { cookie: `access_token=${refreshToken}` } }), status: 401, code: 'UNAUTHENTICATED' },
    // POST /api/v1/verify/
    { name: 'verify: missing token', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: {} }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'verify: number token', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: { token: 42 } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'verify: empty token', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: { token: '' } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'verify: oversized token', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: { token: 'a'.repeat(9000) } }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'verify: unknown field', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: { token: 'abc', extra: 1 } }), status: 400, code: 'UNKNOWN_FIELD' },
    { name: 'verify: not a JWT', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: { token: 'abc.def.ghi' } }), status: 401, code: 'INVALID_TOKEN' },
    { name: 'verify: alg none', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: { token: unsigned() } }), status: 401, code: 'INVALID_TOKEN' },
    { name: 'verify: refresh token', method: 'POST', path: '/api/v1/verify/', options: () => ({ json: { token: refreshToken } }), status: 401, code: 'INVALID_TOKEN' },
    // GET /api/v1/me/, POST /api/v1/test/, POST /api/v1/logout/
    { name: 'me: no cookie', method: 'GET', path: '/api/v1/me/', options: () => ({ cookies: false }), status: 401, code: 'UNAUTHENTICATED' },
    { name: 'me: alg none token', method: 'GET', path: '/api/v1/me/', options: () => ({ headers: { cookie: `access_token=${unsigned()}` } }), status: 401, code: 'UNAUTHENTICATED' },
    { name: 'me: bearer garbage', method: 'GET', path: '/api/v1/me/', options: () => ({ headers: { authorization: 'Bearer x' } }), status: 401, code: 'UNAUTHENTICATED' },
    { name: 'test: no cookie', method: 'POST', path: '/api/v1/test/', options: () => ({ cookies: false }), status: 401, code: 'UNAUTHENTICATED' },
    { name: 'logout: no cookie', method: 'POST', path: '/api/v1/logout/', options: () => ({ cookies: false }), status: 401, code: 'UNAUTHENTICATED' },
  ];

  for (const testCase of cases) {
    it(`${testCase.method} ${testCase.path}: ${testCase.name} → ${testCase.status} ${testCase.code}`, async () => {
      const response = await new HttpClient(t.url).request<ErrorBody>(testCase.method, testCase.path, testCase.options());
      assert.equal(response.status, testCase.status, response.text);
      assert.equal(response.body.error.code, testCase.code);
      assert.equal(typeof response.body.error.message, 'string');
    });
  }

  it('wrote no session and no refresh token for any of them', async () => {
    const { db } = t.app.services.storage;
    const sessions = await db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const tokens = await db.selectFrom('refresh_tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(sessions.n), 1, 'only the login in before()');
    assert.equal(Number(tokens.n), 1);
  });
});
