import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { KeyEncryption } from '../../src/tokens/key-encryption.js';
import { BASE_TEST_ENV, startTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, loggedInClient } from './support.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/curfew.js', import.meta.url));
const PASSWORD = 'keys password';

describe('signing keys: JWKS, encrypted at rest, `curfew keys rotate`', () => {
  let t: TestApp;
  // Starts at wall time: the CLI child process stamps retired_at with the system clock.
  const clock = new TestClock(Date.now());
  before(async () => {
    t = await startTestApp({ clock });
    await createUser(t, { email: 'keys@example.com', password: PASSWORD });
  });
  after(async () => t.stop());

  const jwks = async () => (await new HttpClient(t.url).get<JSONWebKeySet>('/.well-known/jwks.json')).body;

  it('publishes the Ed25519 public key; tokens verify offline with it and carry the contract claims', async () => {
    const set = await jwks();
    assert.equal(set.keys.length, 1);
    const [key] = set.keys;
    assert.equal(key?.kty, 'OKP');
    assert.equal(key?.crv, 'Ed25519');
    assert.equal(key?.alg, 'EdDSA');
    assert.equal(key?.d, undefined, 'no private part');
    const http = await loggedInClient(t, 'keys@example.com', PASSWORD);
    const token = http.cookie('access_token') as string;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(set), {
      issuer: t.app.config.auth.issuer,
      audience: 'curfew',
      currentDate: new Date(clock.now()),
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.kid, key?.kid);
    for (const claim of ['sub', 'sid', 'jti', 'iat', 'exp', 'iss', 'aud', 'email', 'role']) assert.ok(claim in payload, claim);
    assert.equal(payload.email, 'keys@example.com');
    assert.equal(typeof payload.sub, 'string');
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300);
  });

  it('stores the private key encrypted', async () => {
    const rows = await t.app.services.storage.db.selectFrom('signing_keys').selectAll().execute();
    for (const row of rows) {
      assert.match(row.private_key_enc, /^v1\./);
      assert.ok(!row.private_key_enc.includes('PRIVATE KEY'));
    }
  });

  it('rotates from the CLI: new tokens use the new key, old tokens still verify, the old key stays published until they expire', async () => {
    const before = await loggedInClient(t, 'keys@example.com', PASSWORD);
    const oldToken = before.cookie('access_token') as string;
    const oldKid = decodeProtectedHeader(oldToken).kid;

    const { stdout } = await run(process.execPath, [CLI, 'keys', 'rotate'], {
      env: { ...process.env, ...BASE_TEST_ENV, ...t.database.env, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent' },
    });
    const newKid = /New signing key: (\S+)/.exec(stdout)?.[1];
    assert.ok(newKid && newKid !== oldKid, stdout);

    // The running server signs with the new key after its periodic reload.
    await t.app.services.auth.keys.reload();
    const after = await loggedInClient(t, 'keys@example.com', PASSWORD);
    assert.equal(decodeProtectedHeader(after.cookie('access_token') as string).kid, newKid);
    assert.deepEqual((await jwks()).keys.map((key) => key.kid).sort(), [newKid, oldKid].sort());
    assert.equal((await before.get('/api/v1/me/')).status, 200, 'a token signed with the retired key still verifies');

    // Another instance that never saw the old kid in memory finds it in the database.
    const other = await startTestApp({ clock, database: t.database });
    try {
      const replay = new HttpClient(other.url);
      replay.jar.set('access_token', oldToken);
      assert.equal((await replay.get('/api/v1/me/')).status, 200);
    } finally {
      await other.stop();
    }

    // Once every token of the old key has expired (TTL + the reload margin), it is no longer published.
    clock.advance(300_000 + 60_000 + 60_000);
    assert.deepEqual((await jwks()).keys.map((key) => key.kid), [newKid]);
  });

  it('binds the encrypted key to SECRET_KEY and its kid', async () => {
    const row = await t.app.services.storage.db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
    assert.throws(() => new KeyEncryption('another-secret-key-0123456789abcdef0123').decrypt(row.private_key_enc, row.kid), /SECRET_KEY/);
    assert.throws(() => new KeyEncryption(TEST_SECRET_KEY).decrypt(row.private_key_enc, 'another-kid'));
    assert.ok(new KeyEncryption(TEST_SECRET_KEY).decrypt(row.private_key_enc, row.kid).includes('PRIVATE KEY'));
  });
});
