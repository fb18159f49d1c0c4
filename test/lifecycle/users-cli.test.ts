import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { PasswordHasher } from '../../src/accounts/passwords.js';
import { loadConfig } from '../../src/config/index.js';
import { openStorage } from '../../src/db/connect.js';
import type { Storage } from '../../src/db/database.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { SmtpSink } from '../mail/smtp-sink.js';
import { STRONG } from './support.js';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('curfew users list|show|deactivate|activate|set-role|resend-activation', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let storage: Storage;
  let sink: SmtpSink;

  before(async () => {
    database = await createTestDatabase();
    sink = await new SmtpSink().start();
    env = { ...BASE_TEST_ENV, ...database.env, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent', SMTP_URL: sink.url };
    storage = openStorage(loadConfig({ env, secretKey: TEST_SECRET_KEY }).database);
    assert.equal((await runCli(['migrate'])).code, 0);
    const hash = await new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }).hash(STRONG);
    const now = Date.now();
    await storage.db
      .insertInto('users')
      .values([
        { email: 'ops@example.com', password_hash: hash, role: 'admin', profile: '{}', activated_at: now, created_at: now, updated_at: now },
        { email: 'worker@example.com', password_hash: hash, role: 'user', profile: '{}', activated_at: now, created_at: now, updated_at: now },
        { email: 'waiting@example.com', password_hash: hash, role: 'user', profile: '{}', activated_at: null, created_at: now, updated_at: now },
      ])
      .execute();
  });
  after(async () => {
    await storage.close();
    await sink.stop();
    await database.drop();
  });

  /** The real CLI in a child process. */
  function runCli(args: readonly string[], input = ''): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/curfew.js', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  it('lists and searches, in human lines', async () => {
    const all = await runCli(['users', 'list']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /admin\s+active\s+ops@example\.com/);
    assert.match(all.stdout, /user\s+unactivated\s+waiting@example\.com/);
    assert.match(all.stdout, /3 account\(s\), page 1 of 1/);
    assert.doesNotMatch(all.stdout, /^\{/m, 'no JSON on stdout');
    const search = await runCli(['users', 'list', '-q', 'WORK', '--active']);
    assert.match(search.stdout, /worker@example\.com/);
    assert.match(search.stdout, /1 account\(s\)/);
  });

  it('shows, deactivates, activates and sets roles by id or e-mail', async () => {
    const shown = await runCli(['users', 'show', 'worker@example.com']);
    assert.match(shown.stdout, /state:\s+active/);
    const off = await runCli(['users', 'deactivate', 'worker@example.com']);
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /Deactivated worker@example\.com/);
    const row = await storage.db.selectFrom('users').selectAll().where('email', '=', 'worker@example.com').executeTakeFirstOrThrow();
    assert.notEqual(row.deactivated_at, null);
    const marks = await storage.db.selectFrom('revocation_marks').selectAll().where('subject', '=', `user:${row.id}`).execute();
    assert.equal(marks.length, 1, 'its sessions were revoked (a per-user not-before mark)');
    assert.equal((await runCli(['users', 'activate', String(row.id)])).code, 0);
    const role = await runCli(['users', 'set-role', String(row.id), 'admin']);
    assert.match(role.stdout, /is now admin/);
    const again = await storage.db.selectFrom('users').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(again.deactivated_at, null);
    assert.equal(again.role, 'admin');
  });

  it('resends an activation link through the outbox and SMTP', async () => {
    const result = await runCli(['users', 'resend-activation', 'Waiting@example.com']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Sent a new activation link to waiting@example\.com/);
    await sink.waitForRecipient('waiting@example.com');
  });

  const refusals: ReadonlyArray<[string, string[], RegExp]> = [
    ['an unknown user', ['users', 'show', 'nobody@example.com'], /No user nobody@example\.com/],
    ['a bad role', ['users', 'set-role', 'ops@example.com', 'root'], /role must be user or admin/],
    ['resending to an active account', ['users', 'resend-activation', 'ops@example.com'], /already active/],
    ['a weak password on create', ['users', 'create', '--email', 'weak@example.com', '--password-stdin'], /too easy to guess/],
  ];
  for (const [name, args, message] of refusals) {
    it(`refuses ${name} with one line on stderr and exit 65`, async () => {
      const result = await runCli(args, 'password1\n');
      assert.equal(result.code, 65, result.stderr);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    });
  }
});
