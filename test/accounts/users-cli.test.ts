import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/accounts/passwords.js';
import { loadConfig } from '../../src/config/index.js';
import { openStorage } from '../../src/db/connect.js';
import type { Storage } from '../../src/db/database.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('curfew users create', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let storage: Storage | undefined;

  before(async () => {
    database = await createTestDatabase();
    env = { ...BASE_TEST_ENV, ...database.env, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent' };
  });
  after(async () => {
    await storage?.close();
    await database.drop();
  });

  /** Runs the real CLI in a child process, as a user would; `input` is piped to stdin. */
  function runCli(args: readonly string[], input: string | undefined): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/curfew.js', ...args], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  }

  function db(): Storage {
    storage ??= openStorage(loadConfig({ env, secretKey: TEST_SECRET_KEY }).database);
    return storage;
  }

  it('creates an active admin from a password on stdin', async () => {
    const result = await runCli(['users', 'create', '--email', ' Admin@Example.com ', '--admin', '--password-stdin'], 'correct horse battery\n');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Created admin account admin@example\.com/);
    const row = await db().db.selectFrom('users').selectAll().where('email', '=', 'admin@example.com').executeTakeFirstOrThrow();
    assert.equal(row.role, 'admin');
    assert.notEqual(row.activated_at, null);
    const hasher = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    assert.equal(await hasher.verify(row.password_hash, 'correct horse battery'), true, 'one trailing newline is not part of the password');
  });

  it('creates a plain active user without --admin', async () => {
    const result = await runCli(['users', 'create', '--email', 'plain@example.com', '--password-stdin'], 'violet harbour lantern 2031');
    assert.equal(result.code, 0, result.stderr);
    const row = await db().db.selectFrom('users').selectAll().where('email', '=', 'plain@example.com').executeTakeFirstOrThrow();
    assert.equal(row.role, 'user');
    assert.notEqual(row.activated_at, null);
  });

  const FAILURES: readonly { name: string; args: string[]; input: string; message: RegExp; code: number }[] = [
    { name: 'a taken email (any case)', args: ['--email', 'ADMIN@example.com'], input: 'violet harbour lantern 2031\n', message: /already exists/, code: 65 },
    { name: 'a short password', args: ['--email', 'short@example.com'], input: 'short\n', message: /at least 8 characters/, code: 65 },
    { name: 'an empty stdin', args: ['--email', 'empty@example.com'], input: '', message: /no password/, code: 65 },
    { name: 'a malformed email', args: ['--email', 'not-an-email'], input: 'violet harbour lantern 2031\n', message: /not a valid e-mail/, code: 65 },
  ];
  for (const failure of FAILURES) {
    it(`refuses ${failure.name} with a clear message and a non-zero exit`, async () => {
      const result = await runCli(['users', 'create', ...failure.args, '--password-stdin'], failure.input);
      assert.equal(result.code, failure.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
      assert.match(result.stderr, failure.message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for a user error');
    });
  }

  it('without --password-stdin and without a terminal, says how to pass the password', async () => {
    const result = await runCli(['users', 'create', '--email', 'tty@example.com'], 'violet harbour lantern 2031\n');
    assert.equal(result.code, 64);
    assert.match(result.stderr, /--password-stdin/);
  });

  it('without --email, is a usage error', async () => {
    const result = await runCli(['users', 'create', '--password-stdin'], 'violet harbour lantern 2031\n');
    assert.equal(result.code, 64);
    assert.match(result.stderr, /--email/);
  });

  it('wrote only the two accounts it was asked for', async () => {
    const rows = await db().db.selectFrom('users').select('email').orderBy('email').execute();
    assert.deepEqual(rows.map((row) => row.email), ['admin@example.com', 'plain@example.com']);
  });
});
