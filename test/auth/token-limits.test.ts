import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { ACCESS_TOKEN_TYP } from '../../src/tokens/access-tokens.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient } from './support.js';

const PASSWORD = 'token limits password';

/**
 * Issue 16 #12: a token with `exp` a year ahead stayed valid 35 minutes
 * after its key left the JWKS (served from the verification cache). Tokens
 * may now live at most ACCESS_TOKEN_TTL (+60 s skew), may not be issued in
 * the future, and a cached verification dies with its key.
 * Issue 16 #13: logout refreshes the instance's own revocation view at once.
 * Background loops are off: nothing refreshes the view or the keys but the
 * code under test.
 */
describe('access-token lifetime cap, retired keys and logout on the same instance', () => {
  const clock = new TestClock(Date.UTC(2026, 6, 1, 9, 0, 0));
  let t: TestApp;
  let userId = 0;
  before(async () => {
    t = await startTestApp({ clock });
    userId = (await createUser(t, { email: 'limits@example.com', password: PASSWORD })).id;
  });
  after(async () => t.stop());

  /** A token signed with the server's own current key (as a leaked key or a bug would), with chosen times. */
  async function forge(iat: number, exp: number, sessionId: string, sessionCreatedAt: number): Promise<string> {
    const key = t.app.services.auth.keys.signingKey();
    return new SignJWT({ sid: sessionId, sct: sessionCreatedAt, email: 'limits@example.com', role: 'user' })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: ACCESS_TOKEN_TYP })
      .setSubject(String(userId))
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setIssuer(t.app.config.auth.issuer)
      .setAudience(t.app.config.auth.audience)
      .sign(key.privateKey);
  }

  const me = (token: string) => {
    const http = new HttpClient(t.url);
    http.jar.set('access_token', token);
    return http.get('/api/v1/me/');
  };
  const verify = (token: string) => new HttpClient(t.url).post('/api/v1/verify/', { json: { token } });

  it('refuses a token whose lifetime exceeds ACCESS_TOKEN_TTL plus the skew, or whose iat is in the future', async () => {
    const http = await loggedInClient(t, 'limits@example.com', PASSWORD);
    const session = (await t.app.services.auth.service.verifyAccessToken(http.cookie('access_token') as string))!;
    const now = Math.floor(clock.now() / 1000);
    const ttl = t.app.config.auth.accessTtlMs / 1000;
    const cases: Array<[string, number, number, number]> = [
      ['a year-long token', now, now + 365 * 86_400, 401],
      ['TTL + 61 s', now, now + ttl + 61, 401],
      ['iat 2 minutes in the future', now + 120, now + 120 + ttl, 401],
      ['TTL + 60 s (within the skew)', now, now + ttl + 60, 200],
      ['iat 30 s ahead (within the skew)', now + 30, now + 30 + ttl, 200],
    ];
    for (const [name, iat, exp, status] of cases) {
      const token = await forge(iat, exp, session.sessionId, session.sessionCreatedAt);
      assert.equal((await me(token)).status, status, `${name} on /me`);
      assert.equal((await verify(token)).status, status, `${name} on /api/v1/verify/`);
    }
  });

  it('a cached verification dies with its key: a key gone from the database takes its tokens at the next reload', async () => {
    const http = await loggedInClient(t, 'limits@example.com', PASSWORD);
    const token = http.cookie('access_token') as string;
    assert.equal((await me(token)).status, 200);
    assert.equal((await me(token)).status, 200, 'now served from the verification cache (the fast path)');
    const oldKid = decodeProtectedHeader(token).kid as string;
    await t.app.services.auth.keys.rotate();
    assert.equal((await me(token)).status, 200, 'a retired key is still accepted within its window');
    // An operator removes the (compromised) retired key.
    await t.app.services.storage.db.deleteFrom('signing_keys').where('kid', '=', oldKid).execute();
    await t.app.services.auth.keys.reload();
    assert.equal((await me(token)).status, 401, 'the cached verification is not used any more');
    assert.equal((await verify(token)).status, 401);
  });

  it("a retired key's window is judged by the clock at each request, not at the last reload", async () => {
    const http = await loggedInClient(t, 'limits@example.com', PASSWORD);
    const token = http.cookie('access_token') as string;
    const kid = decodeProtectedHeader(token).kid as string;
    await t.app.services.auth.keys.rotate();
    const keys = t.app.services.auth.keys;
    assert.equal(keys.accepts(kid), true);
    clock.advance(t.app.config.auth.accessTtlMs + 60_000 + 1);
    assert.equal(keys.accepts(kid), false, 'past ACCESS_TOKEN_TTL + 60 s, with no reload in between');
    assert.equal(keys.accepts(keys.signingKey().kid), true, 'the current key stays');
  });

  it('logout: the same instance refuses the old access token at once, with no background refresh', async () => {
    const http = await loggedInClient(t, 'limits@example.com', PASSWORD);
    const token = http.cookie('access_token') as string;
    assert.equal((await me(token)).status, 200);
    assert.equal((await me(token)).status, 200, 'cached');
    const out = await http.post('/api/v1/logout/', { headers: csrfHeaders(http) });
    assert.equal(out.status, 200, out.text);
    assert.equal((await me(token)).status, 401, 'the very next request on this instance');
    assert.equal((await verify(token)).status, 401);
  });
});
