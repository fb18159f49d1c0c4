import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../src/trigger-client/exit-codes.js';
import { defaultPath, type AuthMode } from '../../src/trigger-client/request.js';
import { runTrigger, type TriggerOptions, type TriggerResult } from '../../src/trigger-client/trigger.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/processes.js';
import { testJobs } from '../helpers/test-jobs.js';

/**
 * `curfew trigger`'s client against a REAL curfew (startTestApp: real
 * Fastify, real trigger guard, real scheduler and ledger) on loopback.
 * Forced 5xx sequences and hangs, which a real curfew cannot be told to
 * produce, stay in trigger.test.ts against the loopback stand-in.
 */
const SECRET = 'real-server-secret-0123456789abcdef0123456789';
const deps = { now: Date.now, sleep: async () => undefined, random: () => 0.5 };
const lines: string[] = [];
const apps: TestApp[] = [];

async function app(env: Record<string, string> = {}, withTestJobs = false): Promise<TestApp> {
  const started = await startTestApp({
    env: { CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000', CRON_ALLOW_QUERY_TOKEN: 'true', ...env },
    ...(withTestJobs ? { extraJobs: testJobs } : {}),
  });
  apps.push(started);
  return started;
}

async function call(target: TestApp | string, overrides: Partial<TriggerOptions> & { job?: string; mode?: AuthMode; method?: string; path?: string } = {}): Promise<TriggerResult> {
  const { job, mode = 'signed', method = 'POST', path = defaultPath(job), ...rest } = overrides;
  const url = typeof target === 'string' ? target : target.url;
  const result = await runTrigger({ target: { baseUrl: new URL(url), job, method, path, mode }, secret: SECRET, csrf: false, timeoutMs: 10_000, retries: 2, retryDelayMs: 1, ...rest }, deps);
  lines.push(result.line);
  return result;
}

let main: TestApp;
before(async () => {
  main = await app();
});
after(async () => {
  // The last check of the file: nothing any call printed or the servers logged holds the secret.
  for (const text of [...lines, ...apps.map((started) => started.logs.text())]) assert.ok(!text.includes(SECRET), `secret leaked: ${text.slice(0, 300)}`);
  for (const started of apps) await started.stop();
});

describe('curfew trigger against a real curfew', () => {
  const modes: [AuthMode, string][] = [
    ['signed', 'flush-expired-tokens'],
    ['bearer', 'clear-expired-sessions'],
    ['header', 'sequence-tick'],
    ['query', 'check-inactive-users'],
  ];
  for (const [mode, job] of modes) {
    it(`${mode}: POST /cron/jobs/${job}/run exits 0 and logs the run id`, async () => {
      const result = await call(main, { mode, job });
      assert.equal(result.exitCode, EXIT.OK, result.line);
      assert.match(result.line, new RegExp(`job=${job} method=POST .*status=200 run_id=\\d+ .*outcome=ok exit=0`));
    });
  }

  it('a disabled job (logout-all-users is off by default): 409 JOB_DISABLED, exit 6, nothing run (issue 14)', async () => {
    const result = await call(main, { job: 'logout-all-users' });
    assert.equal(result.exitCode, EXIT.DISABLED, result.line);
    assert.match(result.line, /status=409 .*outcome=disabled exit=6 message="JOB_DISABLED: /);
    const runs = await main.app.services.storage.db.selectFrom('cron_runs').select('id').where('job', '=', 'logout-all-users').execute();
    assert.equal(runs.length, 0);
  });

  it('--due: /cron/run answers with the schedule run id', async () => {
    const result = await call(main);
    assert.equal(result.exitCode, EXIT.OK, result.line);
    assert.match(result.line, /job=due .*status=200 run_id=\d+ .*message="Schedule executed."/);
  });

  it('a wrong secret: 401, exit 4, no retry', async () => {
    const result = await runTrigger({ target: { baseUrl: new URL(main.url), job: undefined, method: 'POST', path: '/cron/run', mode: 'bearer' }, secret: 'wrong-wrong-wrong-wrong-wrong-wrong-wrong', csrf: false, timeoutMs: 10_000, retries: 3, retryDelayMs: 1 }, deps);
    lines.push(result.line);
    assert.equal(result.exitCode, EXIT.AUTH_REFUSED, result.line);
    assert.equal(result.attempts, 1);
    assert.match(result.line, /status=401/);
  });

  it('an unknown job: 404 JOB_NOT_FOUND, exit 64', async () => {
    const result = await call(main, { job: 'no-such-job', mode: 'bearer' });
    assert.equal(result.exitCode, EXIT.USAGE, result.line);
    assert.match(result.line, /status=404 .*JOB_NOT_FOUND/);
  });

  it('a server without any cron secret: 503 CRON_NOT_CONFIGURED, exit 4', async () => {
    const bare = await startTestApp();
    apps.push(bare);
    const result = await call(bare, { mode: 'bearer' });
    assert.equal(result.exitCode, EXIT.AUTH_REFUSED, result.line);
    assert.equal(result.attempts, 1);
    assert.match(result.line, /status=503 .*CRON_NOT_CONFIGURED/);
  });

  it('throttled: 429 with Retry-After, exit 3, not retried', async () => {
    const strict = await app({ CRON_THROTTLE_MAX: '1' });
    assert.equal((await call(strict, { mode: 'bearer' })).exitCode, EXIT.OK);
    const result = await call(strict, { mode: 'bearer' });
    assert.equal(result.exitCode, EXIT.THROTTLED, result.line);
    assert.equal(result.attempts, 1);
    assert.match(result.line, /status=429 .*retry_after=\d+/);
  });

  it('a job that times out: 500 with ok:false, exit 1, not retried', async () => {
    const failing = await app({ JOB_TEST_SLOW_ENABLED: 'true', JOB_TEST_SLOW_TIMEOUT: '50ms', JOB_TEST_SLOW_RETRIES: '0' }, true);
    const result = await call(failing, { job: 'test-slow', mode: 'bearer' });
    assert.equal(result.exitCode, EXIT.JOB_FAILED, result.line);
    assert.equal(result.attempts, 1);
    assert.match(result.line, /status=500 run_id=\d+ .*outcome=failed .*test-slow timed_out/);
  });

  it('busy: a second /cron/run while the first holds the schedule-run lease gets 409, exit 2', async () => {
    // Two instances on one database, as behind a load balancer. (Within one
    // instance a second /cron/run currently re-acquires its own lease: reported.)
    const env = { CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000', JOB_TEST_SLOW_ENABLED: 'true' };
    const slow = await app(env, true);
    const other = await startTestApp({ env, database: slow.database, extraJobs: testJobs });
    apps.unshift(other);
    const first = call(slow, { mode: 'bearer' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const running = await slow.app.services.storage.db.selectFrom('cron_runs').select('id').where('job', '=', 'schedule-run').where('status', '=', 'running').execute();
      if (running.length > 0) break;
      assert.ok(Date.now() < deadline, 'the first /cron/run never started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const second = await call(other, { mode: 'header' });
    assert.equal(second.exitCode, EXIT.BUSY, `${second.line}\n${(await first).line}`);
    assert.equal(second.attempts, 1);
    assert.match(second.line, /status=409 .*outcome=busy .*Cron is already running/);
    assert.equal((await first).exitCode, EXIT.OK);
  });

  it("--csrf: seed 000's DELETE /api/cronjob/cron/check-inactive-users with Bearer + CSRF cookie", async () => {
    const result = await call(main, { mode: 'bearer', method: 'DELETE', path: '/api/cronjob/cron/check-inactive-users', csrf: true });
    assert.equal(result.exitCode, EXIT.OK, result.line);
    assert.match(result.line, /method=DELETE path=\/api\/cronjob\/cron\/check-inactive-users status=200/);
  });

  it("seed 001's POST /api/v1/auth/cron/flush-tokens/ with X-Cron-Secret", async () => {
    const result = await call(main, { mode: 'header', path: '/api/v1/auth/cron/flush-tokens/' });
    assert.equal(result.exitCode, EXIT.OK, result.line);
    assert.match(result.line, /message="Expired tokens flushed successfully."/);
  });

  it('an unreachable port: exit 5 after the retries', async () => {
    const port = await freePort();
    const result = await call(`http://127.0.0.1:${port}`, { retries: 1 });
    assert.equal(result.exitCode, EXIT.UNREACHABLE, result.line);
    assert.equal(result.attempts, 2);
  });
});
