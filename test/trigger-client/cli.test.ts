import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { FakeCurfew } from './fake-curfew.js';

const SECRET = 'cli-test-secret-0123456789abcdef0123456789abcdef';
const BIN = resolve('bin/curfew.js');
const dir = mkdtempSync(join(tmpdir(), 'curfew-cli-'));
/** Everything any launched process printed, for the final secret grep. */
const outputs: string[] = [];

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a real `node bin/curfew.js ...` process (cwd: a temp dir, so no .env is read). */
function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      outputs.push(stdout, stderr);
      done({ code, stdout, stderr });
    });
  });
}

let server: FakeCurfew;
before(async () => {
  server = await FakeCurfew.start(SECRET);
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => server.reset());

describe('curfew trigger as a process', () => {
  it('exits 64 with a clear message when the secret variable is unset, and calls nothing', async () => {
    const result = await runCli(['trigger', '--url', server.url]);
    assert.equal(result.code, 64);
    assert.match(result.stderr, /CRON_SECRET \(or CRON_SECRETS\) is not set/);
    assert.equal(server.calls.length, 0);
  });

  it('signed call: exit 0, one log line on stdout', async () => {
    const result = await runCli(['trigger', 'flush-expired-tokens', '--url', server.url], { CRON_SECRET: SECRET });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 1);
    assert.match(result.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z job=flush-expired-tokens .*status=200 run_id=\d+ duration_ms=\d+ attempts=1 outcome=ok exit=0/);
    assert.equal(server.triggerCalls()[0]?.authenticated, true);
  });

  it('--secret-env names another variable; CRON_SECRETS is the fallback', async () => {
    assert.equal((await runCli(['trigger', '--url', server.url, '--secret-env', 'MY_KEY'], { MY_KEY: SECRET })).code, 0);
    assert.equal((await runCli(['trigger', '--url', server.url, '--mode', 'bearer'], { CRON_SECRETS: `${SECRET},other-secret-0123456789abcdef0123` })).code, 0);
  });

  it('exit codes reach the shell: 409 -> 2, 429 -> 3, wrong secret -> 4, job failed -> 1', async () => {
    server.forced.push({ status: 409, body: { ok: false, message: 'Cron is already running.' } });
    assert.equal((await runCli(['trigger', '--url', server.url, '--mode', 'header'], { CRON_SECRET: SECRET })).code, 2);
    server.forced.push({ status: 429, headers: { 'retry-after': '60' } });
    assert.equal((await runCli(['trigger', '--url', server.url, '--mode', 'header'], { CRON_SECRET: SECRET })).code, 3);
    assert.equal((await runCli(['trigger', '--url', server.url], { CRON_SECRET: 'not-the-secret-0123456789abcdef0123456789' })).code, 4);
    server.jobStatus = 'failed';
    assert.equal((await runCli(['trigger', 'sequence-tick', '--url', server.url, '--mode', 'bearer'], { CRON_SECRET: SECRET })).code, 1);
  });

  it('--log-file: the line goes to the file, not stdout', async () => {
    const logFile = join(dir, 'trigger.log');
    const result = await runCli(['trigger', '--url', server.url, '--mode', 'query', '--log-file', logFile], { CRON_SECRET: SECRET });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(readFileSync(logFile, 'utf8'), /job=due .*outcome=ok/);
  });

  it('--min-interval: of two launches at the same moment exactly one calls; a later one inside the interval skips', async () => {
    const lockFile = join(dir, 'guard.lock');
    const args = ['trigger', '--url', server.url, '--min-interval', '59s', '--lock-file', lockFile, '--mode', 'bearer'];
    const [first, second] = await Promise.all([runCli(args, { CRON_SECRET: SECRET }), runCli(args, { CRON_SECRET: SECRET })]);
    assert.equal(first?.code, 0);
    assert.equal(second?.code, 0);
    assert.equal(server.triggerCalls().length, 1, 'exactly one of the two launches called');
    const lines = `${first?.stdout ?? ''}${second?.stdout ?? ''}`;
    assert.equal((lines.match(/outcome=ok/g) ?? []).length, 1);
    assert.equal((lines.match(/outcome=skipped/g) ?? []).length, 1);
    const third = await runCli(args, { CRON_SECRET: SECRET });
    assert.equal(third.code, 0);
    assert.match(third.stdout, /outcome=skipped .*min interval 59s/);
    assert.equal(server.triggerCalls().length, 1);
  });

  it('--min-interval against a real curfew: two simultaneous processes, one schedule run in the ledger', async () => {
    const real = await startTestApp({ env: { CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000' } });
    try {
      const args = ['trigger', '--due', '--url', real.url, '--min-interval', '59s', '--lock-file', join(dir, 'real.lock')];
      const results = await Promise.all([runCli(args, { CRON_SECRET: SECRET }), runCli(args, { CRON_SECRET: SECRET })]);
      assert.deepEqual(results.map((result) => result.code), [0, 0]);
      const rows = await real.app.services.storage.db.selectFrom('cron_runs').select('id').where('job', '=', 'schedule-run').execute();
      assert.equal(rows.length, 1, 'exactly one launch reached /cron/run');
      outputs.push(real.logs.text());
    } finally {
      await real.stop();
    }
  });

  it('no output or log file of any launch above contains the secret', () => {
    const files = readdirSync(dir).map((name) => join(dir, name)).filter((path) => path.endsWith('.log'));
    assert.ok(files.length > 0);
    assert.ok(outputs.length >= 10);
    for (const text of [...outputs, ...files.map((path) => readFileSync(path, 'utf8'))]) {
      assert.ok(!text.includes(SECRET), `secret found in: ${text}`);
    }
  });
});
