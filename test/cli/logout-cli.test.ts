import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seedTimestamp } from '../../src/cli/seed-log.js';
import { BASE_TEST_ENV, startTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/app.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { jsonLines, runCli, runCliOnTerminal } from './support.js';

const PASSWORD = 'logout cli password';

describe('seed 003 timestamps', () => {
  it('stamps lines as `date` does (day padded with a space)', () => {
    assert.equal(seedTimestamp(Date.UTC(2025, 11, 7, 2, 0, 1)), 'Sun Dec  7 02:00:01 UTC 2025');
    assert.equal(seedTimestamp(Date.UTC(2026, 10, 30, 14, 5, 9)), 'Mon Nov 30 14:05:09 UTC 2026');
  });
});

describe('curfew logout-all-users: confirmation, exclusions checked, stdout for humans, --log-file', () => {
  let t: TestApp;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'curfew-logout-cli-'));
  before(async () => {
    t = await startTestApp();
    env = { ...BASE_TEST_ENV, ...t.database.env, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'info' };
    await createUser(t, { email: 'ann@example.com', password: PASSWORD });
    await createUser(t, { email: 'root@example.com', password: PASSWORD, role: 'admin' });
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const liveSessions = async () =>
    Number((await t.app.services.storage.db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).where('revoked_at', 'is', null).executeTakeFirstOrThrow()).n);

  it('curfew --version prints the version (bug: unknown option, exit 64)', async () => {
    const result = await runCli(['--version'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'curfew 0.1.0\n');
  });

  it('without --yes and without a terminal, refuses and changes nothing (bug: logged everybody out)', async () => {
    await loggedInClient(t, 'ann@example.com', PASSWORD);
    const before = await liveSessions();
    assert.ok(before > 0);
    const result = await runCli(['logout-all-users'], { env });
    assert.equal(result.code, 64, result.stdout + result.stderr);
    assert.match(result.stderr, /--yes/);
    assert.equal(result.stdout, '');
    assert.equal(await liveSessions(), before);
  });

  const BAD_EXCLUSIONS = [
    { name: 'an --exclude-user that matches no account', args: ['--exclude-user', 'nobody@example.com'], message: /--exclude-user nobody@example\.com: no account/ },
    { name: 'an --exclude-role that does not exist', args: ['--exclude-role', 'admins'], message: /--exclude-role admins: no such role/ },
  ];
  for (const bad of BAD_EXCLUSIONS) {
    it(`refuses ${bad.name}, even with --yes (bug: silently logged that user out)`, async () => {
      const before = await liveSessions();
      const result = await runCli(['logout-all-users', '--yes', ...bad.args], { env });
      assert.equal(result.code, 64, result.stdout + result.stderr);
      assert.match(result.stderr, bad.message);
      assert.equal(await liveSessions(), before, 'nothing revoked');
    });
  }

  it('an existing user (any case) and role are accepted as exclusions', async () => {
    const result = await runCli(['logout-all-users', '--dry-run', '--exclude-user', 'ROOT@example.com', '--exclude-role', 'admin'], { env });
    assert.equal(result.code, 0, result.stderr);
  });

  it('on a terminal asks first: "n" changes nothing, "y" logs out', async (context) => {
    await loggedInClient(t, 'ann@example.com', PASSWORD);
    const before = await liveSessions();
    const no = await runCliOnTerminal(['logout-all-users'], { env, input: 'n\r' });
    if (no.code === 127) return context.skip('util-linux `script` is not installed');
    assert.match(no.stdout, /Log out every user now.*\[y\/N\]/);
    assert.match(no.stdout, /not confirmed/);
    assert.equal(await liveSessions(), before);
    const yes = await runCliOnTerminal(['logout-all-users'], { env, input: 'y\r' });
    assert.equal(yes.code, 0, yes.stdout);
    assert.match(yes.stdout, /Successfully logged out all users by revoking \d+ session\(s\)/);
    assert.equal(await liveSessions(), 0);
  });

  it('`logout-all-users --yes >> log`: stdout has exactly seed 003\'s lines, no JSON; log lines are on stderr (bug: JSON on stdout)', async () => {
    await loggedInClient(t, 'ann@example.com', PASSWORD);
    await loggedInClient(t, 'ann@example.com', PASSWORD);
    const result = await runCli(['logout-all-users', '--yes'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n'), ['Successfully logged out all users by revoking 2 session(s)', 'Also cleaned up 0 expired session(s)', '']);
    assert.deepEqual(jsonLines(result.stdout), []);
    assert.ok(jsonLines(result.stderr).length > 0, 'LOG_LEVEL=info lines went to stderr');
  });

  it('without LOG_LEVEL a crontab line with 2>&1 gets no info log lines either', async () => {
    const { LOG_LEVEL: _ignored, ...quiet } = env;
    const result = await runCli(['logout-all-users', '--yes'], { env: quiet });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(jsonLines(result.stdout + result.stderr), []);
  });

  it('--log-file appends seed 003\'s timestamped block and prints nothing', async () => {
    await loggedInClient(t, 'ann@example.com', PASSWORD);
    const file = join(dir, 'daily_logout.log');
    const first = await runCli(['logout-all-users', '--yes', '--log-file', file], { env });
    const second = await runCli(['logout-all-users', '--yes', '--log-file', file], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(first.stdout + second.stdout, '');
    const stamp = String.raw`\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}`;
    const block = (revoked: number) =>
      `${stamp}: Running daily user logout\\.\\.\\.\\nSuccessfully logged out all users by revoking ${revoked} session\\(s\\)\\nAlso cleaned up 0 expired session\\(s\\)\\n${stamp}: Daily logout completed successfully\\n`;
    assert.match(readFileSync(file, 'utf8'), new RegExp(`^${block(1)}${block(0)}$`));
  });
});
