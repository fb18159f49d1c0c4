import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { BASE_TEST_ENV, startTestApp, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { runCli } from './support.js';

const THIRD_KEY = 'a-third-secret-key-for-the-stdin-round-trip-0123456789';
const PASSWORD = 'reencrypt password';

describe('SECRET_KEY set after a development start: a clear message and `curfew keys reencrypt`', () => {
  let database: TestDatabase;
  let devEnv: Record<string, string>;
  let kid: string;
  before(async () => {
    database = await createTestDatabase();
    // A development start: no SECRET_KEY, so one is generated into DATA_DIR/secret_key.
    devEnv = { ...BASE_TEST_ENV, ...database.env, NODE_ENV: 'development' };
  });
  after(async () => database.drop());

  const secretFile = () => join(database.env.DATA_DIR as string, 'secret_key');

  it('a development run generates DATA_DIR/secret_key and the first signing key under it', async () => {
    const result = await runCli(['keys', 'list'], { env: devEnv });
    assert.equal(result.code, 0, result.stderr);
    kid = result.stdout.trim();
    assert.match(kid, /^[\w-]{43}$/);
    assert.ok(existsSync(secretFile()));
  });

  it('with a new SECRET_KEY every command fails with one line naming both keys and the fix (bug: a stack trace)', async () => {
    for (const args of [['keys', 'list'], ['jobs', 'list']]) {
      const result = await runCli(args, { env: { ...devEnv, SECRET_KEY: TEST_SECRET_KEY } });
      assert.equal(result.code, 78, result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^curfew: configuration error: SECRET_KEY: /);
      assert.match(result.stderr, new RegExp(`key ${kid}`));
      assert.ok(result.stderr.includes(secretFile()) || result.stderr.includes('secret_key'), 'names the development key file');
      assert.match(result.stderr, /curfew keys reencrypt --from-secret-file \S*secret_key/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });

  it('reencrypt refuses without SECRET_KEY set, and with both or neither source', async () => {
    const noKey = await runCli(['keys', 'reencrypt', '--from-secret-file', secretFile()], { env: devEnv });
    assert.equal(noKey.code, 64);
    assert.match(noKey.stderr, /set SECRET_KEY/);
    const neither = await runCli(['keys', 'reencrypt'], { env: { ...devEnv, SECRET_KEY: TEST_SECRET_KEY } });
    assert.equal(neither.code, 64);
  });

  it('a wrong old key changes nothing (exit 65)', async () => {
    const result = await runCli(['keys', 'reencrypt', '--old-secret-key-stdin'], { env: { ...devEnv, SECRET_KEY: TEST_SECRET_KEY }, input: 'not-the-old-key\n' });
    assert.equal(result.code, 65, result.stderr);
    assert.match(result.stderr, /nothing was changed/);
    const still = await runCli(['keys', 'list'], { env: devEnv });
    assert.equal(still.code, 0, 'the development key still opens the keys');
  });

  it('--from-secret-file moves the keys to the new SECRET_KEY; the server then starts and signs with the same key', async () => {
    const result = await runCli(['keys', 'reencrypt', '--from-secret-file', secretFile()], { env: { ...devEnv, SECRET_KEY: TEST_SECRET_KEY } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Re-encrypted 1 signing key\(s\) under the new SECRET_KEY\./);
    const listed = await runCli(['keys', 'list'], { env: { ...devEnv, SECRET_KEY: TEST_SECRET_KEY } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim(), kid);
    // startTestApp runs with TEST_SECRET_KEY: it starts, and its tokens carry the old kid.
    const t = await startTestApp({ database });
    try {
      await createUser(t, { email: 'keys@example.com', password: PASSWORD });
      const http = await loggedInClient(t, 'keys@example.com', PASSWORD);
      assert.equal(decodeProtectedHeader(http.cookie('access_token') as string).kid, kid);
    } finally {
      await t.stop();
    }
    const again = await runCli(['keys', 'reencrypt', '--from-secret-file', secretFile()], { env: { ...devEnv, SECRET_KEY: TEST_SECRET_KEY } });
    assert.equal(again.code, 0, 'running it twice is harmless');
    assert.match(again.stdout, /Re-encrypted 0 signing key\(s\) under the new SECRET_KEY \(1 already were\)/);
  });

  it('--old-secret-key-stdin moves them again (retired keys too)', async () => {
    const rotated = await runCli(['keys', 'rotate'], { env: { ...devEnv, SECRET_KEY: TEST_SECRET_KEY } });
    assert.equal(rotated.code, 0, rotated.stderr);
    const result = await runCli(['keys', 'reencrypt', '--old-secret-key-stdin'], { env: { ...devEnv, SECRET_KEY: THIRD_KEY }, input: `${TEST_SECRET_KEY}\n` });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Re-encrypted 2 signing key\(s\)/);
    const listed = await runCli(['keys', 'list'], { env: { ...devEnv, SECRET_KEY: THIRD_KEY } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes(kid));
  });
});

describe('a CLI run in production never generates a development secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'curfew-prod-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const args of [['jobs', 'list'], ['keys', 'list'], ['keys', 'reencrypt', '--old-secret-key-stdin'], ['logout-all-users', '--yes'], ['migrate']]) {
    it(`curfew ${args.join(' ')}`, async () => {
      const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'curfew.db')}` };
      const result = await runCli(args, { env, input: 'old\n' });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /SECRET_KEY/);
      assert.equal(existsSync(join(dir, 'secret_key')), false, 'no secret_key file');
      assert.equal(existsSync(join(dir, 'curfew.db')) && readFileSync(join(dir, 'curfew.db')).length > 0, false, 'no database either');
    });
  }
});
