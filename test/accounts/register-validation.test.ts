import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient, type RequestOptions } from '../helpers/http.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const PROFILE = { type: 'worker', first_name: 'Ada', last_name: 'Lovelace', birth_date: '1990-12-10', sex: 'female' };
const GOOD = { email: 'good@example.com', password: 'violet harbour lantern 2031', profile: PROFILE };
const withProfile = (profile: unknown) => ({ ...GOOD, profile });

interface Case {
  readonly name: string;
  readonly request: RequestOptions;
  readonly status: number;
  readonly code: string;
}

const CASES: readonly Case[] = [
  { name: 'no body', request: {}, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'missing email', request: { json: { password: GOOD.password, profile: PROFILE } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'missing password', request: { json: { email: GOOD.email, profile: PROFILE } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'missing profile', request: { json: { email: GOOD.email, password: GOOD.password } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'email without @', request: { json: { ...GOOD, email: 'not-an-email' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'email without a domain dot', request: { json: { ...GOOD, email: 'a@localhost' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'email with a space inside', request: { json: { ...GOOD, email: 'a b@example.com' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'email with two @', request: { json: { ...GOOD, email: 'a@b@example.com' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'email too long', request: { json: { ...GOOD, email: `${'a'.repeat(250)}@example.com` } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'empty email', request: { json: { ...GOOD, email: '' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'password of 7 characters', request: { json: { ...GOOD, password: 'short-7' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'password of 129 characters', request: { json: { ...GOOD, password: 'p'.repeat(129) } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'email as a number', request: { json: { ...GOOD, email: 42 } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'password as an array', request: { json: { ...GOOD, password: ['violet harbour lantern 2031'] } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile as a number', request: { json: withProfile(7) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile as null', request: { json: withProfile(null) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile as an array', request: { json: withProfile([PROFILE]) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile text that is not JSON', request: { form: { ...GOOD, profile: '{type: worker}' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile text that is a JSON string', request: { form: { ...GOOD, profile: '"worker"' } }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile without type', request: { json: withProfile({ first_name: 'Ada' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile type not allowed', request: { json: withProfile({ type: 'boss' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'profile type of wrong case', request: { json: withProfile({ type: 'Worker' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'birth_date not a date', request: { json: withProfile({ type: 'worker', birth_date: 'yesterday' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'birth_date 30 February', request: { json: withProfile({ type: 'worker', birth_date: '2000-02-30' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'birth_date hour 25', request: { json: withProfile({ type: 'worker', birth_date: '2000-02-03T25:00:00Z' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'birth_date in US order', request: { json: withProfile({ type: 'worker', birth_date: '08/25/2000' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'birth_date in the future', request: { json: withProfile({ type: 'worker', birth_date: '2030-01-01' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'birth_date as a number', request: { json: withProfile({ type: 'worker', birth_date: 19900101 }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'first_name as a number', request: { json: withProfile({ type: 'worker', first_name: 1 }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'first_name blank', request: { json: withProfile({ type: 'worker', first_name: '   ' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'last_name too long', request: { json: withProfile({ type: 'worker', last_name: 'x'.repeat(151) }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'sex not allowed', request: { json: withProfile({ type: 'worker', sex: 'robot' }) }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown profile field', request: { json: withProfile({ type: 'worker', is_admin: true }) }, status: 400, code: 'UNKNOWN_FIELD' },
  { name: 'unknown profile field in form text', request: { form: { ...GOOD, profile: '{"type":"worker","role":"admin"}' } }, status: 400, code: 'UNKNOWN_FIELD' },
  { name: 'unknown top-level field', request: { json: { ...GOOD, role: 'admin' } }, status: 400, code: 'UNKNOWN_FIELD' },
  { name: 'unknown form field', request: { form: { ...GOOD, profile: JSON.stringify(PROFILE), is_staff: '1' } }, status: 400, code: 'UNKNOWN_FIELD' },
  { name: 'malformed JSON', request: { body: '{"email": "x@example.com",', headers: { 'content-type': 'application/json' } }, status: 400, code: 'INVALID_JSON' },
  { name: 'empty JSON body', request: { body: '', headers: { 'content-type': 'application/json' } }, status: 400, code: 'INVALID_JSON' },
  { name: 'JSON array body', request: { json: [GOOD] }, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'text/plain body', request: { body: 'email=x', headers: { 'content-type': 'text/plain' } }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'XML body', request: { body: '<email>x</email>', headers: { 'content-type': 'application/xml' } }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'JSON sent as text/plain', request: { body: JSON.stringify(GOOD), headers: { 'content-type': 'text/plain' } }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'oversized JSON body', request: { json: { ...GOOD, email: 'x'.repeat(70 * 1024) } }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'oversized form body', request: { form: { ...GOOD, profile: 'x'.repeat(70 * 1024) } }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
];

describe('POST /api/v1/register/ refuses malformed requests and writes nothing', () => {
  let t: TestApp;
  let http: HttpClient;
  const clock = new TestClock(Date.UTC(2026, 2, 1));

  before(async () => {
    t = await startTestApp({ clock });
    http = new HttpClient(t.url);
  });
  after(async () => t.stop());

  async function rowCounts(): Promise<number[]> {
    const db = t.app.services.storage.db;
    const counts = await Promise.all(
      (['users', 'activation_tokens', 'mail_outbox'] as const).map((table) =>
        db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ),
    );
    return counts.map((row) => Number(row.n));
  }

  for (const testCase of CASES) {
    it(`${testCase.name} → ${testCase.status} ${testCase.code}`, async () => {
      const response = await http.post<ErrorBody>('/api/v1/register/', testCase.request);
      assert.equal(response.status, testCase.status, response.text);
      assert.equal(response.body.error.code, testCase.code, response.text);
      assert.ok(response.body.error.message.length > 0);
      assert.deepEqual(await rowCounts(), [0, 0, 0], 'no row was written');
    });
  }

  it('multipart: a repeated field and a file part are refused too', async () => {
    const repeated = new FormData();
    repeated.append('email', GOOD.email);
    repeated.append('email', 'other@example.com');
    repeated.append('password', GOOD.password);
    repeated.append('profile', JSON.stringify(PROFILE));
    const first = await fetch(new URL('/api/v1/register/', t.url), { method: 'POST', body: repeated });
    assert.equal(first.status, 400);
    assert.equal(((await first.json()) as ErrorBody).error.code, 'VALIDATION_FAILED');

    const withFile = new FormData();
    withFile.append('email', GOOD.email);
    withFile.append('password', GOOD.password);
    withFile.append('profile', new Blob([JSON.stringify(PROFILE)], { type: 'application/json' }), 'profile.json');
    const second = await fetch(new URL('/api/v1/register/', t.url), { method: 'POST', body: withFile });
    assert.ok(second.status >= 400 && second.status < 500, `status ${second.status}`);
    assert.deepEqual(await rowCounts(), [0, 0, 0]);
  });

  it('the well-formed request it was all derived from is accepted (the table tests the rule, not the setup)', async () => {
    const response = await http.post('/api/v1/register/', { json: GOOD });
    assert.equal(response.status, 201, response.text);
    assert.deepEqual(await rowCounts(), [1, 1, 1]);
    const form = await http.post('/api/v1/register/', { form: { ...GOOD, email: 'form@example.com', profile: JSON.stringify(PROFILE) } });
    assert.equal(form.status, 201, form.text);
  });
});

describe('GET /api/v1/activate/<token>/ refuses bad tokens', () => {
  let t: TestApp;
  let http: HttpClient;
  before(async () => {
    t = await startTestApp();
    http = new HttpClient(t.url);
  });
  after(async () => t.stop());

  const TOKEN_CASES: readonly { name: string; path: string; status: number; code: string }[] = [
    { name: 'unknown token of the right shape', path: `/api/v1/activate/${'A'.repeat(43)}/`, status: 400, code: 'ACTIVATION_INVALID' },
    { name: 'too short', path: '/api/v1/activate/abc/', status: 400, code: 'ACTIVATION_INVALID' },
    { name: 'too long', path: `/api/v1/activate/${'A'.repeat(200)}/`, status: 400, code: 'ACTIVATION_INVALID' },
    { name: 'characters outside base64url', path: `/api/v1/activate/${'A'.repeat(42)}%24/`, status: 400, code: 'ACTIVATION_INVALID' },
    { name: 'SQL-looking', path: `/api/v1/activate/${encodeURIComponent("' or 1=1 --")}/`, status: 400, code: 'ACTIVATION_INVALID' },
    { name: 'no token', path: '/api/v1/activate/', status: 404, code: 'ROUTE_NOT_FOUND' },
  ];
  for (const testCase of TOKEN_CASES) {
    it(`${testCase.name} → ${testCase.status} ${testCase.code}`, async () => {
      const response = await http.get<ErrorBody>(testCase.path);
      assert.equal(response.status, testCase.status, response.text);
      assert.equal(response.body.error.code, testCase.code, response.text);
    });
  }
});
