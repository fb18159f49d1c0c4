import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { isAppError } from '../../src/errors.js';
import { acquireLease } from '../../src/jobs/lease.js';
import { ABANDONED_ERROR } from '../../src/jobs/runner.js';
import type { RunFinishedEvent } from '../../src/jobs/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually, job, openJobsFixture, type JobsFixture } from './fixture.js';

const START = Date.UTC(2026, 0, 1, 10, 0, 0);

describe('runner', () => {
  const clock = new TestClock(START);
  let attempts = 0;
  let fixture: JobsFixture;
  const events: RunFinishedEvent[] = [];
  before(async () => {
    fixture = await openJobsFixture({
      clock,
      definitions: [
        job({ name: 'ok', run: async ({ progress }) => (progress({ done: 1, total: 2 }), { deleted: 3 }) }),
        job({
          name: 'hangs',
          timeoutMs: 50,
          // Ends only when aborted: a timeout is the only way out.
          run: ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        }),
        job({
          name: 'flaky',
          retries: { max: 2, baseDelayMs: 1 },
          run: async () => {
            attempts += 1;
            if (attempts < 3) throw new Error(`attempt ${attempts} failed; Bearer abc.def`);
            return { attempts };
          },
        }),
        job({ name: 'broken', retries: { max: 1, baseDelayMs: 1 }, run: async () => Promise.reject(new Error('always; Authorization: Bearer s3cr3t-value')) }),
        job({ name: 'off', enabled: false, run: async () => ({}) }),
      ],
    });
    fixture.service.onRunFinished((event) => events.push(event));
  });
  after(() => fixture.close());

  it('records an ok run with counts, trigger, caller and instance', async () => {
    const summary = await fixture.service.runJob('ok', { dryRun: false, trigger: 'cli', caller: { ip: '10.0.0.1', userAgent: 'ua', requestId: 'r1' } });
    assert.equal(summary.status, 'ok');
    assert.deepEqual(summary.counts, { deleted: 3 });
    const row = await fixture.ledger.findById(summary.id as number);
    assert.equal(row?.status, 'ok');
    assert.equal(row?.trigger, 'cli');
    assert.equal(row?.scheduled_for, null);
    assert.equal(row?.caller_ip, '10.0.0.1');
    assert.equal(row?.request_id, 'r1');
    assert.equal(row?.instance_id, 'instance-a');
    assert.equal(row?.counts, '{"deleted":3}');
    assert.equal(row?.output, 'deleted=3');
    assert.equal(events.at(-1)?.summary.id, summary.id, 'onRunFinished saw the run');
    assert.equal(await fixture.leases.current('ok'), undefined, 'the lease is released');
  });

  it('times out through the AbortSignal and records timed_out', async () => {
    const summary = await fixture.service.runJob('hangs', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(summary.status, 'timed_out');
    assert.match(summary.error ?? '', /timed out after 50 ms/);
    assert.equal((await fixture.ledger.findById(summary.id as number))?.status, 'timed_out');
  });

  it('retries with back-off until success, in one ledger row', async () => {
    const summary = await fixture.service.runJob('flaky', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(summary.status, 'ok');
    assert.equal(attempts, 3);
    assert.equal((await fixture.ledger.listByJob('flaky')).length, 1);
  });

  it('records failure after the last retry, with a redacted error, and counts the streak', async () => {
    const first = await fixture.service.runJob('broken', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(first.status, 'failed');
    assert.equal(first.error, 'always; Authorization: Bearer [REDACTED]');
    assert.doesNotMatch((await fixture.ledger.findById(first.id as number))?.error ?? '', /s3cr3t/);
    await fixture.service.runJob('broken', { dryRun: false, trigger: 'cli', caller: {} });
    const status = (await fixture.service.status()).find((s) => s.job === 'broken');
    assert.equal(status?.consecutiveFailures, 2);
  });

  it('unknown job: JOB_NOT_FOUND; disabled job over http: JOB_DISABLED, but a dry run or the CLI may run it', async () => {
    await assert.rejects(fixture.service.runJob('nope', { dryRun: false, trigger: 'http', caller: {} }), (e) => isAppError(e) && e.code === 'JOB_NOT_FOUND');
    await assert.rejects(fixture.service.runJob('off', { dryRun: false, trigger: 'http', caller: {} }), (e) => isAppError(e) && e.code === 'JOB_DISABLED');
    assert.equal((await fixture.service.runJob('off', { dryRun: true, trigger: 'http', caller: {} })).status, 'ok');
    assert.equal((await fixture.service.runJob('off', { dryRun: false, trigger: 'cli', caller: {} })).status, 'ok');
  });

  it('a job whose lease another instance holds is skipped and recorded, not an error', async () => {
    const other = await acquireLease({ store: fixture.leases, job: 'ok', holder: 'instance-b', ttlMs: 60_000 });
    assert.equal(other.acquired, true);
    const result = await fixture.service.runDue('http', {});
    assert.equal(result.busy, false);
    const runs = result.busy ? [] : result.result.runs;
    const skipped = runs.find((r) => r.job === 'ok');
    assert.equal(skipped?.status, 'skipped');
    assert.match(skipped?.reason ?? '', /lease held by instance-b/);
    assert.equal((await fixture.ledger.findById(skipped?.id as number))?.status, 'skipped');
    if (other.acquired) await other.lease.release();
  });

  it('runDue answers busy while another schedule-run holds its lease, and records itself otherwise', async () => {
    const other = await acquireLease({ store: fixture.leases, job: 'schedule-run', holder: 'instance-b', ttlMs: 600_000 });
    assert.deepEqual(await fixture.service.runDue('http', {}), { busy: true });
    if (other.acquired) await other.lease.release();
    clock.advance(60_000);
    const result = await fixture.service.runDue('http', { ip: '127.0.0.1' });
    assert.equal(result.busy, false);
    if (!result.busy) {
      const row = await fixture.ledger.findById(result.result.cronRunId);
      assert.equal(row?.job, 'schedule-run');
      assert.equal(row?.status, 'ok');
      assert.equal(row?.caller_ip, '127.0.0.1');
      assert.ok(result.result.runs.some((r) => r.job === 'ok' && r.status === 'ok' && r.trigger === 'http'));
    }
  });
});

describe('leases', () => {
  let database: TestDatabase;
  const clock = new TestClock(START);
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  it('a live holder renews past its TTL and is never stolen; an expired one is taken over', async () => {
    const a = await openJobsFixture({ clock, database, instanceId: 'a', definitions: [] });
    const b = await openJobsFixture({ clock, database, instanceId: 'b', definitions: [] });
    try {
      const first = await acquireLease({ store: a.leases, job: 'x', holder: 'a', ttlMs: 10_000 });
      assert.ok(first.acquired);
      assert.equal((await acquireLease({ store: b.leases, job: 'x', holder: 'b', ttlMs: 10_000 })).acquired, false);
      // a keeps renewing while it runs, across several TTLs.
      for (let i = 0; i < 5; i += 1) {
        clock.advance(6_000);
        assert.equal(await first.lease.renew(), true);
        assert.equal((await acquireLease({ store: b.leases, job: 'x', holder: 'b', ttlMs: 10_000 })).acquired, false);
      }
      // a stops renewing (crashed): after the TTL b takes over and learns who held it.
      clock.advance(10_000);
      const second = await acquireLease({ store: b.leases, job: 'x', holder: 'b', ttlMs: 10_000 });
      assert.ok(second.acquired && second.previousHolder === 'a');
      // a comes back: its renewal fails (lost), it never steals the lease back.
      assert.equal(await first.lease.renew(), false);
      assert.equal((await b.leases.current('x'))?.holder, 'b');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('takeover of a crashed holder marks its running rows failed/abandoned, then runs the next slot', async () => {
    let started = 0;
    const definition = job({ name: 'slow', leaseTtlMs: 60_000, run: async () => ({ n: ++started }) });
    const a = await openJobsFixture({ clock, database, instanceId: 'a', definitions: [definition] });
    const b = await openJobsFixture({ clock, database, instanceId: 'b', definitions: [definition] });
    try {
      clock.set(START);
      // a recorded the 10:00 slot and took the lease, then died (kill -9) mid-run.
      const deadRow = await a.ledger.insertSlot({ job: 'slow', scheduledFor: START, trigger: 'schedule', status: 'running', startedAt: START, instanceId: 'a', dryRun: false });
      const held = await acquireLease({ store: a.leases, job: 'slow', holder: 'a', ttlMs: 60_000 });
      assert.ok(held.acquired);
      // Its last heartbeat, 10 s before 10:01.
      clock.set(START + 50_000);
      assert.ok(held.acquired && (await held.lease.renew()));
      // c recorded an earlier slot and died before it ever held the lease.
      const preLeaseRow = await a.ledger.insertSlot({ job: 'slow', scheduledFor: START - 120_000, trigger: 'schedule', status: 'running', startedAt: START - 120_000, instanceId: 'c', dryRun: false });
      // 10:01: b finds the next slot due, but a renewed its lease 10 s ago (alive as far as b can tell): skipped.
      clock.set(START + 60_000);
      const [skipped] = await b.service.runDueJob(b.service.registry.get('slow'), 'schedule', {});
      assert.equal(skipped?.status, 'skipped');
      assert.equal(started, 0);
      // 10:02: the lease has expired (10:01:50); b runs the slot and marks a's run abandoned.
      clock.set(START + 120_000);
      const [ran] = await b.service.runDueJob(b.service.registry.get('slow'), 'schedule', {});
      assert.equal(ran?.status, 'ok');
      assert.equal(started, 1);
      const dead = await b.ledger.findById(deadRow as number);
      assert.equal(dead?.status, 'failed');
      assert.equal(dead?.error, ABANDONED_ERROR);
      assert.equal((await b.ledger.findById(preLeaseRow as number))?.error, ABANDONED_ERROR, 'a running row older than the TTL is dead too');
      const rows = await b.ledger.listByJob('slow');
      assert.deepEqual(rows.map((r) => [r.status, r.instance_id]).reverse(), [['failed', 'a'], ['failed', 'c'], ['skipped', 'b'], ['ok', 'b']]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('renews on a timer while a job runs longer than its TTL', async () => {
    const realClock = { now: () => Date.now() };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const a = await openJobsFixture({ clock: realClock, database, instanceId: 'a', definitions: [job({ name: 'long', leaseTtlMs: 300, run: async () => (await gate, {}) })] });
    try {
      const running = a.service.runJob('long', { dryRun: false, trigger: 'cli', caller: {} });
      await eventually(async () => (await a.leases.current('long')) !== undefined);
      const firstUntil = (await a.leases.current('long'))?.lease_until ?? 0;
      await eventually(async () => ((await a.leases.current('long'))?.lease_until ?? 0) > firstUntil);
      release();
      assert.equal((await running).status, 'ok');
    } finally {
      release();
      await a.close();
    }
  });
});
