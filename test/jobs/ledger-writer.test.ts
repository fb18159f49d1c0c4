import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { acquireLease } from '../../src/jobs/lease.js';
import type { Timers } from '../../src/jobs/timers.js';
import type { RunParams } from '../../src/jobs/types.js';
import { createLogger } from '../../src/logger.js';
import { logoutExclusions } from '../../src/maintenance/index.js';
import { LogCapture } from '../helpers/app.js';
import { job, openJobsFixture, type JobsFixture } from './fixture.js';

const START = Date.UTC(2026, 5, 1, 12, 0, 0);

/**
 * Virtual timers on a TestClock for waits shorter than `maxMs`: such a timer
 * fires on the next turn with the clock moved to its time. Longer ones
 * (heartbeats, job timeouts, the schedule run's maximum) never fire, so they
 * cannot race the database on PostgreSQL.
 */
function instantTimers(clock: TestClock, waits: number[], maxMs = 9_999): Timers {
  return {
    after(ms, fn) {
      if (ms > maxMs) return () => undefined;
      waits.push(ms);
      const timer = setImmediate(() => {
        clock.advance(ms);
        fn();
      });
      return () => clearImmediate(timer);
    },
  };
}

describe('the runner is the ledger\'s one writer (issue 15 §3)', () => {
  it('no module but the runner (and the repository itself) writes cron_runs', () => {
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const writers = files.filter((file) => {
      if (file === join('jobs', 'runner.ts') || file === join('db', 'repositories', 'cron-runs.ts')) return false;
      const text = readFileSync(join('src', file), 'utf8');
      return /\b(insertSlot|insertMissed|abandonRunning|updateCounts)\(|ledger\.(insert|finish)\(|insertInto\('cron_runs'\)|updateTable\('cron_runs'\)/.test(text);
    });
    assert.deepEqual(writers, []);
  });
});

describe('runner: ledger rows, parameters, errors and the schedule run', () => {
  const clock = new TestClock(START);
  const logs = new LogCapture();
  const seen: RunParams[] = [];
  let fixture: JobsFixture;
  before(async () => {
    fixture = await openJobsFixture({
      clock,
      definitions: [
        job({ name: 'params', schedule: '0 * * * *', run: async ({ params }) => (seen.push(params), { n: seen.length }) }),
        job({
          name: 'broken',
          schedule: '0 0 1 1 *',
          run: async () => {
            const low = new Error('connect ECONNREFUSED; Authorization: Bearer low-level-secret');
            throw new Error('flush failed', { cause: low });
          },
        }),
        job({ name: 'throws-text', schedule: '0 0 1 1 *', run: async () => Promise.reject('plain text, Bearer text-secret') }),
        job({
          name: 'hangs',
          schedule: '0 0 1 1 *',
          run: ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        }),
      ],
      service: { logger: createLogger({ level: 'info', destination: logs }), scheduleRunMaxMs: 200 },
    });
  });
  after(() => fixture.close());

  it('carries per-run parameters on the run request; a run without them sees none (no side channel)', async () => {
    const [withParams, without] = await Promise.all([
      fixture.service.runJob('params', { dryRun: true, trigger: 'cli', caller: {}, params: { excludeRoles: ['admin'] } }),
      fixture.service.runJob('params', { dryRun: true, trigger: 'cli', caller: {} }),
    ]);
    assert.equal(withParams.status, 'ok');
    // The second call overlapped the first on this instance: it is skipped, not run with the first one's parameters.
    assert.ok(without.status === 'ok' || without.status === 'skipped');
    assert.deepEqual(seen[0], { excludeRoles: ['admin'] });
    if (without.status === 'ok') assert.deepEqual(seen[1], {});
  });

  it('logout-all-users refuses parameters it does not know (a typo must not log out the people it meant to keep)', () => {
    assert.deepEqual(logoutExclusions({ excludeRoles: ['admin'], excludeUsers: ['a@example.com'] }), { roles: ['admin'], emails: ['a@example.com'] });
    assert.throws(() => logoutExclusions({ excludeRole: ['admin'] }), /unknown parameter\(s\) excludeRole/);
    assert.throws(() => logoutExclusions({ excludeUsers: 'a@example.com' }), /must be a list of strings/);
  });

  it('keeps a failing job\'s whole error: message in `error`, stack and cause chain in `error_detail` and the log, redacted', async () => {
    const summary = await fixture.service.runJob('broken', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(summary.status, 'failed');
    assert.equal(summary.error, 'flush failed');
    const row = await fixture.ledger.findById(summary.id as number);
    assert.equal(row?.error, 'flush failed');
    const detail = row?.error_detail ?? '';
    assert.match(detail, /^Error: flush failed\n\s+at /, 'the stack, line by line');
    assert.match(detail, /caused by: Error: connect ECONNREFUSED; Authorization: Bearer \[REDACTED\]\n\s+at /, 'the cause with its own stack');
    assert.doesNotMatch(detail, /low-level-secret/);
    const line = logs.lines.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.runId === summary.id);
    assert.match(String(line?.errorDetail), /caused by: Error: connect ECONNREFUSED/);
    assert.match(String((line?.err as { stack?: string } | undefined)?.stack), /flush failed/);
    assert.doesNotMatch(logs.text(), /low-level-secret/);
  });

  it('a body that throws something other than an Error is recorded and logged too', async () => {
    const summary = await fixture.service.runJob('throws-text', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(summary.status, 'failed');
    assert.equal(summary.error, 'plain text, Bearer [REDACTED]');
    assert.equal((await fixture.ledger.findById(summary.id as number))?.error_detail, 'plain text, Bearer [REDACTED]');
    assert.doesNotMatch(logs.text(), /text-secret/);
  });

  it('records missed slots through the runner, with their reason', async () => {
    const definition = fixture.service.registry.get('params');
    await fixture.service.runDueJob(definition, 'schedule', {}, START + 3_600_000);
    const summaries = await fixture.service.runDueJob(definition, 'schedule', {}, START + 4 * 3_600_000 + 5000);
    assert.deepEqual(
      summaries.map((s) => [s.status, s.reason ?? null]),
      [['missed', 'catch-up'], ['missed', 'catch-up'], ['ok', null]],
    );
    const missed = (await fixture.ledger.listByJob('params')).filter((row) => row.status === 'missed');
    assert.deepEqual(missed.map((row) => row.output), ['catch-up', 'catch-up']);
  });

  it('a schedule run past CRON_RUN_MAX_TIME aborts its jobs and is recorded timed_out', async () => {
    clock.set(Date.UTC(2027, 0, 1, 0, 0, 0));
    const outcome = await fixture.service.runDue('http', {});
    assert.equal(outcome.busy, false);
    if (outcome.busy) return;
    const hung = outcome.result.runs.find((run) => run.job === 'hangs');
    assert.equal(hung?.status, 'timed_out');
    assert.match(hung?.error ?? '', /exceeded its maximum time of 200 ms/);
    const row = await fixture.ledger.findById(outcome.result.cronRunId);
    assert.equal(row?.status, 'timed_out');
    assert.equal(await fixture.leases.current('schedule-run'), undefined, 'the lease is released');
  });
});

describe('short renewed leases (issue 16 #8)', () => {
  const clock = new TestClock(START);
  const waits: number[] = [];
  const timers = instantTimers(clock, waits);
  let fixture: JobsFixture;
  before(async () => {
    fixture = await openJobsFixture({
      clock,
      instanceId: 'live',
      definitions: [job({ name: 'work', run: async () => ({ done: 1 }) })],
      service: { timers, lease: { ttlMs: 30_000, heartbeatMs: 10_000 } },
    });
  });
  after(() => fixture.close());
  const lease = (holder: string) => acquireLease({ store: fixture.leases, job: 'x', holder, ttlMs: 30_000, heartbeatMs: 10_000, timers });

  it('a live holder (renewed within two heartbeats) is refused at once; one that stopped renewing is waited out and taken over', async () => {
    clock.set(START);
    const dead = await lease('dead');
    assert.ok(dead.acquired);
    clock.advance(15_000);
    assert.ok(dead.acquired && (await dead.lease.renew()));
    clock.advance(19_000);
    waits.length = 0;
    assert.deepEqual(await lease('other'), { acquired: false, holder: 'dead' });
    assert.deepEqual(waits, [], 'no wait for a live holder');
    // Two heartbeats and more without a renewal: the holder is silent. The caller waits for the lease to run out (11 s more), then takes it.
    clock.advance(2_000);
    const taken = await lease('other');
    assert.ok(taken.acquired && taken.previousHolder === 'dead');
    assert.deepEqual(waits, [9_001]);
    assert.equal(clock.now(), START + 15_000 + 30_000 + 1);
    if (taken.acquired) await taken.lease.release();
  });

  it('runDue against a schedule run whose holder stopped renewing runs the jobs instead of answering busy', async () => {
    clock.set(START + 3_600_000);
    const crashed = await acquireLease({ store: fixture.leases, job: 'schedule-run', holder: 'crashed', ttlMs: 30_000 });
    assert.ok(crashed.acquired);
    clock.advance(5_000);
    assert.deepEqual(await fixture.service.runDue('http', {}), { busy: true }, 'a holder that renewed 5 s ago is alive: busy');
    clock.advance(20_000);
    const outcome = await fixture.service.runDue('http', {});
    assert.equal(outcome.busy, false, 'a holder silent for 25 s is not "busy"');
    if (!outcome.busy) assert.ok(outcome.result.runs.some((run) => run.job === 'work' && run.status === 'ok'));
  });
});
