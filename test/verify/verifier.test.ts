import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { createVerifier, verifyPlugin, type Verifier } from 'curfew/verify';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';
import { eventually, MACHINE_NATS, natsUnavailable, testPrefix } from '../bus/support.js';

const natsSkip = await natsUnavailable();
if (natsSkip) console.log(`# skipped (bus part): ${natsSkip}`);

describe('curfew/verify has no dependency on the server code', () => {
  it('imports only its own files, jose and nats', () => {
    const dir = new URL('../../src/verify/', import.meta.url);
    for (const file of readdirSync(dir)) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const [, spec] of source.matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
        assert.ok(spec === 'jose' || spec === 'nats' || /^\.\/[a-z-]+\.js$/.test(spec ?? ''), `${file} imports ${spec}`);
      }
    }
  });
});

describe('createVerifier against a running curfew (JWKS)', () => {
  let t: TestApp;
  let verifier: Verifier;
  const login = async () => (await loggedInClient(t, 'lib@example.com', 'correct horse battery')).cookie('access_token') as string;

  before(async () => {
    t = await startTestApp();
    await createUser(t, { email: 'lib@example.com', password: 'correct horse battery', role: 'admin' });
    // Cooldown 0: every unknown kid refetches, so the rotation test does not depend on wall time.
    verifier = createVerifier({ issuer: t.app.config.auth.issuer, audience: 'curfew', jwksUrl: `${t.url}/.well-known/jwks.json`, jwksCooldownMs: 0 });
  });
  after(async () => {
    await verifier?.close();
    await t?.stop();
  });

  it('verifies a login\'s access token: user, role, session', async () => {
    const token = await login();
    const user = await verifier.verify(token);
    assert.ok(user);
    assert.equal(user.email, 'lib@example.com');
    assert.equal(user.role, 'admin');
    const claims = await t.app.services.auth.service.verifyAccessToken(token);
    assert.equal(user.sessionId, claims?.sessionId);
    assert.equal(user.expiresAt.getTime(), claims?.expiresAt);
  });

  it('refuses garbage, a tampered signature, another audience or issuer', async () => {
    const token = await login();
    assert.equal(await verifier.verify('garbage'), null);
    assert.equal(await verifier.verify(`${token.slice(0, -3)}AAA`), null);
    const wrongAud = createVerifier({ issuer: t.app.config.auth.issuer, audience: 'other', jwksUrl: `${t.url}/.well-known/jwks.json` });
    const wrongIss = createVerifier({ issuer: 'https://elsewhere', audience: 'curfew', jwksUrl: `${t.url}/.well-known/jwks.json` });
    assert.equal(await wrongAud.verify(token), null);
    assert.equal(await wrongIss.verify(token), null);
  });

  it('after a key rotation: tokens signed with the new key (unknown kid, JWKS fetched again) and the old one are both accepted', async () => {
    const old = await login();
    assert.ok(await verifier.verify(old), 'the key set is cached now');
    const kid = await t.app.services.auth.keys.rotate();
    const fresh = await login();
    assert.equal(JSON.parse(Buffer.from(fresh.split('.')[0] as string, 'base64url').toString()).kid, kid);
    assert.ok(await verifier.verify(fresh), 'the new kid was fetched');
    assert.ok(await verifier.verify(old), 'the retired key stays published until its tokens expire');
  });

  it('the Fastify plugin type-checks against real Fastify and sets request.user', async () => {
    const token = await login();
    const app = Fastify();
    await app.register(verifyPlugin(verifier));
    app.get('/me', async (request) => ({ email: (request as unknown as { user: { email: string } }).user.email }));
    const ok = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json<{ email: string }>().email, 'lib@example.com');
    const refused = await app.inject({ url: '/me' });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['www-authenticate'], 'Bearer');
    await app.close();
  });

  it('without a bus, a revoked session\'s token stays valid until it expires (the documented trade-off)', async () => {
    const http = await loggedInClient(t, 'lib@example.com', 'correct horse battery');
    const token = http.cookie('access_token') as string;
    assert.equal((await http.post('/api/v1/logout/', { headers: csrfHeaders(http) })).status, 200);
    assert.ok(await verifier.verify(token));
  });
});

describe('createVerifier with busUrl: revocation events', { skip: natsSkip ?? false }, () => {
  const prefix = testPrefix();
  let t: TestApp;
  let verifier: Verifier;
  let userId: number;
  const login = async (email = 'evlib@example.com') => loggedInClient(t, email, 'correct horse battery');

  before(async () => {
    t = await startTestApp({ env: { BUS_URL: MACHINE_NATS, BUS_SUBJECT_PREFIX: prefix }, background: true });
    userId = Number((await createUser(t, { email: 'evlib@example.com', password: 'correct horse battery' })).id);
    await createUser(t, { email: 'keep@example.com', password: 'correct horse battery', role: 'admin' });
    verifier = createVerifier({
      issuer: t.app.config.auth.issuer,
      audience: 'curfew',
      jwksUrl: `${t.url}/.well-known/jwks.json`,
      busUrl: MACHINE_NATS,
      subjectPrefix: prefix,
    });
    await verifier.ready();
    await eventually(() => t.app.services.bus.state() === 'connected', 10_000, 'curfew on the bus');
  });
  after(async () => {
    await verifier?.close();
    await t?.stop();
  });

  it('a logged-out session is refused once its event arrives', async () => {
    const http = await login();
    const token = http.cookie('access_token') as string;
    assert.ok(await verifier.verify(token));
    assert.equal((await http.post('/api/v1/logout/', { headers: csrfHeaders(http) })).status, 200);
    await eventually(async () => (await verifier.verify(token)) === null, 10_000, 'the verifier to drop the session');
    assert.ok(await verifier.verify((await login()).cookie('access_token') as string), 'a new session is fine');
  });

  it('logout-everywhere and logout-all-users (with an excluded role) drop the right sessions', async () => {
    const a = (await login()).cookie('access_token') as string;
    await t.app.services.maintenance.sessions.logoutUser(userId);
    await eventually(async () => (await verifier.verify(a)) === null, 10_000, 'logout-everywhere to reach the verifier');

    const user = (await login()).cookie('access_token') as string;
    const admin = (await login('keep@example.com')).cookie('access_token') as string;
    await t.app.services.jobs.runJob('logout-all-users', { dryRun: false, trigger: 'cli', caller: {}, params: { excludeRoles: ['admin'], excludeUsers: [] } });
    await eventually(async () => (await verifier.verify(user)) === null, 10_000, 'logout-all-users to reach the verifier');
    assert.ok(await verifier.verify(admin), 'the excluded role keeps its session');
  });
});
