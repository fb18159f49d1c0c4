import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { hashToken } from '../../src/tokens/secrets.js';
import { startTestApp, TEST_SECRET_KEY, BASE_TEST_ENV, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient, type ErrorBody } from '../auth/support.js';

const basic = (name: string, secret: string) => `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;

describe('RFC 7662 introspection with service clients', () => {
  const clock = new TestClock(Date.UTC(2026, 4, 1));
  let t: TestApp;
  let http: HttpClient;
  let auth: string;
  let token: string;
  let userId: number;

  before(async () => {
    t = await startTestApp({ clock, env: { LOGIN_ACCOUNT_FREE_FAILURES: '3' } });
    userId = Number((await createUser(t, { email: 'in@example.com', password: 'correct horse battery' })).id);
    const { secret } = await t.app.services.clients.create('billing');
    auth = basic('billing', secret);
    http = new HttpClient(t.url);
    token = (await loggedInClient(t, 'in@example.com', 'correct horse battery')).cookie('access_token') as string;
  });
  after(() => t?.stop());

  const introspect = (body: { form?: Record<string, string>; json?: unknown }, authorization = auth) =>
    http.post('/api/v1/introspect/', { ...body, headers: { authorization } });

  it('an active token: exactly RFC 7662\'s fields, from a form body', async () => {
    const response = await introspect({ form: { token, token_type_hint: 'access_token' } });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = response.body as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['active', 'aud', 'email', 'exp', 'iat', 'iss', 'role', 'sid', 'sub', 'token_type']);
    assert.equal(body.active, true);
    assert.equal(body.sub, String(userId));
    assert.equal(body.token_type, 'access_token');
    assert.equal(body.email, 'in@example.com');
    assert.equal(body.role, 'user');
    assert.equal(body.aud, 'curfew');
    assert.equal(body.iss, t.app.config.auth.issuer);
    assert.equal(body.iat, Math.floor(clock.now() / 1000));
    assert.equal(body.exp, Math.floor(clock.now() / 1000) + t.app.config.auth.accessTtlMs / 1000);
  });

  it('a JSON body answers the same as the form', async () => {
    const form = await introspect({ form: { token } });
    const json = await introspect({ json: { token } });
    assert.equal(json.status, 200);
    assert.deepEqual(json.body, form.body);
  });

  it('unknown, garbage and refresh tokens are just {"active": false}', async () => {
    for (const value of ['not-a-token', 'a.b.c', token.slice(0, -4) + 'AAAA', 'x'.repeat(5000)]) {
      const response = await introspect({ form: { token: value } });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { active: false });
    }
  });

  it('an expired token is {"active": false}', async () => {
    const fresh = (await loggedInClient(t, 'in@example.com', 'correct horse battery')).cookie('access_token') as string;
    assert.equal(((await introspect({ form: { token: fresh } })).body as { active: boolean }).active, true);
    clock.advance(t.app.config.auth.accessTtlMs + 1000);
    assert.deepEqual((await introspect({ form: { token: fresh } })).body, { active: false });
  });

  it('a revoked session\'s token is {"active": false}', async () => {
    const user = await loggedInClient(t, 'in@example.com', 'correct horse battery');
    const live = user.cookie('access_token') as string;
    assert.equal(((await introspect({ json: { token: live } })).body as { active: boolean }).active, true);
    assert.equal((await user.post('/api/v1/logout/', { headers: csrfHeaders(user) })).status, 200);
    // What the background refresher does every second on every instance (within the 5 s rule).
    await t.app.services.auth.view.refreshNow();
    assert.deepEqual((await introspect({ json: { token: live } })).body, { active: false });
  });

  it('a wrong secret, an unknown client or no credential: 401 with WWW-Authenticate: Basic, before the body is looked at', async () => {
    for (const authorization of [basic('billing', 'wrong'), basic('nobody', 'x'), 'Bearer abc', '']) {
      const response = await introspect({ form: { token } }, authorization);
      assert.equal(response.status, 401, authorization);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="curfew"/);
      assert.equal((response.body as ErrorBody).error.code, 'INVALID_CLIENT');
    }
    const noBody = await http.post('/api/v1/introspect/', { headers: { authorization: basic('billing', 'wrong') } });
    assert.equal(noBody.status, 401, 'credentials are checked before the body');
  });

  it('a missing token with a good client is 400 in the one envelope; unknown fields too', async () => {
    const missing = await introspect({ form: { token_type_hint: 'access_token' } });
    assert.equal(missing.status, 400);
    assert.equal((missing.body as ErrorBody).error.code, 'VALIDATION_FAILED');
    const extra = await introspect({ json: { token, scope: 'x' } });
    assert.equal((extra.body as ErrorBody).error.code, 'UNKNOWN_FIELD');
  });

  it('repeated bad secrets for one client are throttled (429 with Retry-After)', async () => {
    const { secret } = await t.app.services.clients.create('throttled');
    let last = await introspect({ form: { token } }, basic('throttled', 'wrong'));
    for (let i = 0; i < 5 && last.status === 401; i += 1) last = await introspect({ form: { token } }, basic('throttled', 'wrong'));
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
    const right = await introspect({ form: { token } }, basic('throttled', secret));
    assert.equal(right.status, 429, 'even the right secret waits out the lock');
  });

  it('a revoked client is refused', async () => {
    const { secret } = await t.app.services.clients.create('gone');
    assert.equal((await introspect({ form: { token } }, basic('gone', secret))).status, 200);
    await t.app.services.clients.revoke('gone');
    assert.equal((await introspect({ form: { token } }, basic('gone', secret))).status, 401);
  });

  it('the admin API creates (secret once), lists and revokes clients; users get 403', async () => {
    await createUser(t, { email: 'root@example.com', password: 'correct horse battery', role: 'admin' });
    const admin = await loggedInClient(t, 'root@example.com', 'correct horse battery');
    const created = await admin.post('/api/v1/admin/clients/', { json: { name: 'reports' }, headers: csrfHeaders(admin) });
    assert.equal(created.status, 201, created.text);
    const { secret, client } = created.body as { secret: string; client: { name: string } };
    assert.equal(client.name, 'reports');
    assert.equal((await introspect({ form: { token } }, basic('reports', secret))).status, 200);
    const listed = await admin.get('/api/v1/admin/clients/');
    const names = (listed.body as { clients: Array<{ name: string }> }).clients.map((c) => c.name);
    assert.ok(names.includes('reports'));
    assert.ok(!listed.text.includes(secret), 'the list never shows a secret');
    const dup = await admin.post('/api/v1/admin/clients/', { json: { name: 'reports' }, headers: csrfHeaders(admin) });
    assert.equal(dup.status, 409);
    assert.equal((dup.body as ErrorBody).error.code, 'CLIENT_EXISTS');
    assert.equal((await admin.delete('/api/v1/admin/clients/reports', { headers: csrfHeaders(admin) })).status, 200);
    assert.equal((await admin.delete('/api/v1/admin/clients/reports', { headers: csrfHeaders(admin) })).status, 404);
    const user = await loggedInClient(t, 'in@example.com', 'correct horse battery');
    assert.equal((await user.get('/api/v1/admin/clients/')).status, 403);
  });

  it('never logs a token or a client secret', () => {
    const logs = t.logs.text();
    assert.ok(!logs.includes(token));
    assert.ok(!logs.includes(auth.slice('Basic '.length)));
  });
});

describe('curfew clients create|list|revoke (CLI)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t?.stop());

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/curfew.js', 'clients', ...args], {
      env: { PATH: process.env.PATH ?? '', ...BASE_TEST_ENV, ...t.database.env, SECRET_KEY: TEST_SECRET_KEY },
      encoding: 'utf8',
    });

  it('prints the secret once, stores it hashed, lists and revokes', async () => {
    const created = cli('create', 'warehouse');
    assert.equal(created.status, 0, created.stderr);
    const secret = /client_secret: (\S+)/.exec(created.stdout)?.[1] as string;
    assert.ok(secret && secret.length >= 43);
    const row = await t.app.services.storage.db.selectFrom('service_clients').selectAll().where('name', '=', 'warehouse').executeTakeFirstOrThrow();
    assert.notEqual(row.secret_hash, secret);
    assert.ok(!row.secret_hash.includes(secret));
    assert.equal(row.secret_hash, hashToken(secret), 'stored as its SHA-256 only');
    const listed = cli('list');
    assert.match(listed.stdout, /^warehouse\t/m);
    assert.ok(!listed.stdout.includes(secret));
    assert.equal(cli('create', 'warehouse').status, 65, 'a taken name is refused');
    assert.equal(cli('revoke', 'warehouse').status, 0);
    await assert.rejects(t.app.services.clients.authenticate(basic('warehouse', secret), '127.0.0.1'), /invalid/);
    await assert.rejects(t.app.services.clients.create('Bad Name'), /client name/);
  });
});
