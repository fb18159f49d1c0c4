import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { EXIT } from '../../src/trigger-client/exit-codes.js';
import { defaultPath, type AuthMode } from '../../src/trigger-client/request.js';
import { runTrigger, type TriggerOptions, type TriggerResult } from '../../src/trigger-client/trigger.js';
import { FakeCurfew } from './fake-curfew.js';
import { freePort } from '../helpers/processes.js';

const SECRET = 'trigger-test-secret-0123456789abcdef0123456789';
const deps = { now: Date.now, sleep: async () => undefined, random: () => 0.5 };

let server: FakeCurfew;

function options(overrides: Partial<TriggerOptions> & { job?: string; mode?: AuthMode; method?: string; path?: string } = {}): TriggerOptions {
  const { job, mode = 'signed', method = 'POST', path = defaultPath(job), ...rest } = overrides;
  return {
    target: { baseUrl: new URL(server.url), job, method, path, mode },
    secret: SECRET,
    csrf: false,
    timeoutMs: 5_000,
    retries: 3,
    retryDelayMs: 1,
    ...rest,
  };
}

function field(result: TriggerResult, name: string): string | undefined {
  return new RegExp(`(?:^| )${name}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(result.line)?.[1];
}

before(async () => {
  server = await FakeCurfew.start(SECRET);
});
after(async () => {
  await server.stop();
});
beforeEach(() => {
  // Tests call the same route many times within a second; the replay check is
  // exercised on its own below.
  server.reset();
});

describe('curfew trigger against a loopback server', () => {
  for (const mode of ['signed', 'bearer', 'header', 'query'] as const) {
    it(`authenticates in ${mode} mode and exits 0 with the run id`, async () => {
      const result = await runTrigger(options({ mode, job: 'flush-expired-tokens' }), deps);
      assert.equal(result.exitCode, EXIT.OK, result.line);
      assert.equal(server.triggerCalls().length, 1);
      assert.equal(server.triggerCalls()[0]?.authenticated, true);
      assert.equal(server.triggerCalls()[0]?.url.split('?')[0], '/cron/jobs/flush-expired-tokens/run');
      assert.match(field(result, 'run_id') ?? '', /^\d+$/);
      assert.match(result.line, /job=flush-expired-tokens .*status=200 run_id=\d+ .*outcome=ok exit=0/);
      assert.ok(!result.line.includes(SECRET));
    });
  }

  it('--due calls POST /cron/run and logs the schedule run id', async () => {
    const result = await runTrigger(options(), deps);
    assert.equal(result.exitCode, EXIT.OK);
    assert.equal(server.triggerCalls()[0]?.url, '/cron/run');
    assert.match(result.line, / job=due .*run_id=\d+/);
  });

  it('a wrong secret is refused: exit 4, one call, no retry', async () => {
    const result = await runTrigger({ ...options(), secret: 'wrong-secret-wrong-secret-wrong-secret' }, deps);
    assert.equal(result.exitCode, EXIT.AUTH_REFUSED);
    assert.equal(result.attempts, 1);
    assert.equal(server.triggerCalls().length, 1);
    assert.match(result.line, /status=401 .*outcome=refused/);
  });

  const finals = [
    { status: 409, body: { ok: false, message: 'Cron is already running.' }, exit: EXIT.BUSY, outcome: 'busy' },
    { status: 429, body: { error: { code: 'RATE_LIMITED', message: 'Too many.' } }, headers: { 'retry-after': '120' }, exit: EXIT.THROTTLED, outcome: 'throttled' },
    { status: 403, body: { error: { code: 'FORBIDDEN', message: 'Not in allow-list.' } }, exit: EXIT.AUTH_REFUSED, outcome: 'refused' },
    { status: 503, body: { error: { code: 'CRON_NOT_CONFIGURED', message: 'No secret.' } }, exit: EXIT.AUTH_REFUSED, outcome: 'refused' },
    { status: 404, body: { error: { code: 'JOB_NOT_FOUND', message: 'No job x.' } }, exit: EXIT.USAGE, outcome: 'usage' },
  ];
  for (const answer of finals) {
    it(`${answer.status} ${answer.outcome} exits ${answer.exit} without retrying`, async () => {
      server.forced.push({ status: answer.status, body: answer.body, ...(answer.headers ? { headers: answer.headers } : {}) });
      const result = await runTrigger(options(), deps);
      assert.equal(result.exitCode, answer.exit, result.line);
      assert.equal(result.attempts, 1);
      assert.equal(server.triggerCalls().length, 1);
      assert.match(result.line, new RegExp(`status=${answer.status} .*outcome=${answer.outcome}`));
      if (answer.headers) assert.match(result.line, /retry_after=120/);
    });
  }

  it('retries 5xx with back-off, then succeeds (exit 0 after 3 attempts)', async () => {
    server.forced.push({ status: 502 }, { status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'x' } } });
    const delays: number[] = [];
    const result = await runTrigger(options(), { ...deps, sleep: async (ms) => void delays.push(ms) });
    assert.equal(result.exitCode, EXIT.OK, result.line);
    assert.equal(result.attempts, 3);
    assert.equal(server.triggerCalls().length, 3);
    assert.deepEqual(delays, [1, 2]);
  });

  it('gives up after 1 + retries attempts on a persistent 503: exit 5', async () => {
    for (let i = 0; i < 5; i++) server.forced.push({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'db down' } } });
    const result = await runTrigger(options({ retries: 2 }), deps);
    assert.equal(result.exitCode, EXIT.UNREACHABLE);
    assert.equal(result.attempts, 3);
    assert.equal(server.triggerCalls().length, 3);
  });

  it('a 2xx with ok:false or a failed run is "job failed": exit 1', async () => {
    server.jobStatus = 'failed';
    const result = await runTrigger(options({ job: 'sequence-tick' }), deps);
    assert.equal(result.exitCode, EXIT.JOB_FAILED, result.line);
    assert.match(result.line, /outcome=failed .*message=.*boom/);
    server.forced.push({ status: 200, body: { ok: true, message: 'Schedule executed.', data: { cron_run_id: 7, runs: [{ job: 'a', status: 'ok' }, { job: 'b', status: 'timed_out' }] } } });
    const due = await runTrigger(options(), deps);
    assert.equal(due.exitCode, EXIT.JOB_FAILED, due.line);
    assert.match(due.line, /run_id=7 .*message="b timed_out"/);
  });

  it('an unreachable port exits 5 after its retries', async () => {
    const port = await freePort();
    const result = await runTrigger({ ...options({ retries: 1 }), target: { ...options().target, baseUrl: new URL(`http://127.0.0.1:${port}`) } }, deps);
    assert.equal(result.exitCode, EXIT.UNREACHABLE);
    assert.equal(result.attempts, 2);
    assert.match(result.line, /status=- .*outcome=unreachable .*ECONNREFUSED/);
  });

  it('a server that never answers times out: exit 5', async () => {
    server.forced.push({ status: 200, hang: true }, { status: 200, hang: true });
    const result = await runTrigger(options({ timeoutMs: 150, retries: 1 }), deps);
    assert.equal(result.exitCode, EXIT.UNREACHABLE);
    assert.match(result.line, /outcome=timeout/);
  });

  it("--csrf: seed 000's DELETE with Bearer, csrftoken cookie and X-CSRFToken", async () => {
    server.requireCsrf = true;
    const path = '/api/cronjob/cron/check-inactive-users';
    const without = await runTrigger(options({ mode: 'bearer', method: 'DELETE', path }), deps);
    assert.equal(without.exitCode, EXIT.AUTH_REFUSED, 'the CSRF-checking server refuses a call without the token');
    server.calls.length = 0;
    const result = await runTrigger(options({ mode: 'bearer', method: 'DELETE', path, csrf: true }), deps);
    assert.equal(result.exitCode, EXIT.OK, result.line);
    assert.deepEqual(server.calls.map((call) => `${call.method} ${call.url}`), ['GET /api/cronjob/csrf-token', `DELETE ${path}`]);
    assert.equal(server.calls[1]?.headers['x-csrftoken'], 'csrf-abc123');
    assert.match(result.line, new RegExp(`job=${path.replace(/\//g, '\\/')} method=DELETE`));
  });

  it("seed 001's flush-tokens route with X-Cron-Secret", async () => {
    const result = await runTrigger(options({ mode: 'header', path: '/api/v1/auth/cron/flush-tokens/' }), deps);
    assert.equal(result.exitCode, EXIT.OK, result.line);
    assert.equal(server.triggerCalls()[0]?.headers['x-cron-secret'], SECRET);
    assert.match(result.line, /message="Expired tokens flushed successfully."/);
  });

  it('every attempt carries a fresh nonce, so a 5xx retry in the same second is no replay; the job call is bound to its slot', async () => {
    server.forced.push({ status: 500 });
    const fixed = Math.floor(Date.now() / 1000) * 1000;
    const frozen = { ...deps, now: () => fixed };
    const retried = await runTrigger(options({ retries: 1, job: 'flush-expired-tokens' }), frozen);
    assert.equal(retried.exitCode, EXIT.OK, retried.line);
    const calls = server.triggerCalls();
    assert.deepEqual(calls.map((call) => call.headers['x-curfew-timestamp']), [String(fixed / 1000), String(fixed / 1000)], 'the same second twice');
    const nonces = calls.map((call) => call.headers['x-curfew-nonce']);
    assert.equal(new Set(nonces).size, 2, 'two different nonces');
    assert.deepEqual(calls.map((call) => call.headers['x-curfew-slot']), server.slotsHandedOut, 'each call signs the slot the server named');
    assert.equal(server.slotsHandedOut.length, 2);
  });

  it('a disabled (409 JOB_DISABLED) or paused (409 JOB_PAUSED) job exits 6, not 2 = busy', async () => {
    server.forced.push({ status: 409, body: { error: { code: 'JOB_DISABLED', message: 'Job "logout-all-users" is disabled.' } } });
    const disabled = await runTrigger(options({ job: 'logout-all-users' }), deps);
    assert.equal(disabled.exitCode, EXIT.DISABLED, disabled.line);
    assert.match(disabled.line, /outcome=disabled exit=6/);
    server.forced.push({ status: 409, body: { error: { code: 'JOB_PAUSED', message: 'Job "flush-expired-tokens" is paused by ops@example.com.' } } });
    const paused = await runTrigger(options({ job: 'flush-expired-tokens' }), deps);
    assert.equal(paused.exitCode, EXIT.DISABLED, paused.line);
    assert.match(paused.line, /exit=6 message="JOB_PAUSED: /);
    server.forced.push({ status: 409, body: { ok: false, message: 'Cron is already running.' } });
    assert.equal((await runTrigger(options(), deps)).exitCode, EXIT.BUSY);
  });

  it('query mode never logs the token', async () => {
    const result = await runTrigger(options({ mode: 'query' }), deps);
    assert.equal(result.exitCode, EXIT.OK);
    assert.ok(server.triggerCalls()[0]?.url.includes(`token=${SECRET}`));
    assert.ok(!result.line.includes(SECRET));
  });

  it('scrubs the secret from server messages echoed into the log line', async () => {
    server.forced.push({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: `bad secret ${SECRET}` } } });
    const result = await runTrigger(options(), deps);
    assert.ok(!result.line.includes(SECRET));
    assert.match(result.line, /\[REDACTED\]/);
  });
});
