import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob } from '../../src/jobs/define.js';
import type { CronRunRow } from '../../src/db/repositories/cron-runs.js';
import { AlertRecorder } from '../../sim/alerts.js';
import { checkOracle, expectedSlots } from '../../sim/oracle.js';
import { checkLateness, expectedLateAfter } from '../../sim/oracle-lateness.js';
import { simulate } from '../../sim/simulate.js';
import { World } from '../../sim/world.js';
import { testEngine } from '../helpers/database.js';

const body = async () => ({});
const HOUR = 3_600_000;

describe('simulator oracle (issue 13 §1)', () => {
  it('derives DST slots from wall-clock time and the job\'s policy, not from the scheduler', () => {
    const from = Date.parse('2026-03-27T00:00:00Z');
    const to = Date.parse('2026-03-31T00:00:00Z');
    const berlin = (dst: 'skip' | 'run-once' | 'run-each') => defineJob({ name: 'b', description: 'b', schedule: '30 2 * * *', timezone: 'Europe/Berlin', dst, run: body });
    // 29 March: 02:30 does not exist in Berlin; the first instant after the gap is 03:00 CEST = 01:00Z.
    assert.deepEqual(expectedSlots(berlin('skip'), from, to).map((s) => [new Date(s.slot).toISOString(), s.kind]), [
      ['2026-03-27T01:30:00.000Z', 'run'],
      ['2026-03-28T01:30:00.000Z', 'run'],
      ['2026-03-29T01:00:00.000Z', 'gap'],
      ['2026-03-30T00:30:00.000Z', 'run'],
    ]);
    assert.equal(expectedSlots(berlin('run-once'), from, to)[2]?.kind, 'run');
    // 25 October: 02:30 happens twice; run-each runs both, run-once the first.
    const fall = [Date.parse('2026-10-24T12:00:00Z'), Date.parse('2026-10-25T12:00:00Z')] as const;
    assert.deepEqual(expectedSlots(berlin('run-each'), ...fall).map((s) => new Date(s.slot).toISOString()), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    assert.deepEqual(expectedSlots(berlin('run-once'), ...fall).map((s) => new Date(s.slot).toISOString()), ['2026-10-25T00:30:00.000Z']);
    const hourly = defineJob({ name: 'h', description: 'h', schedule: '0 * * * *', timezone: 'America/New_York', run: body });
    assert.equal(expectedSlots(hourly, Date.parse('2026-11-01T00:00:00Z'), Date.parse('2026-11-02T00:00:00Z')).length, 24, 'real hours, the repeated one included');
  });

  it('can fail: a slot recorded twice, a missing slot, a gap slot that ran and overlapping bodies are violations', () => {
    const job = defineJob({ name: 'j', description: 'j', schedule: '0 * * * *', run: body });
    const gapJob = defineJob({ name: 'g', description: 'g', schedule: '30 2 * * *', timezone: 'America/New_York', dst: 'skip', run: body });
    const start = Date.parse('2026-03-08T00:00:00Z');
    const row = (id: number, name: string, slot: number, status: CronRunRow['status'], instance = 'a'): CronRunRow =>
      ({ id, job: name, scheduled_for: slot, status, started_at: slot, finished_at: slot + 1000, instance_id: instance, output: null, error: null }) as CronRunRow;
    const result = checkOracle({
      definitions: [job, gapJob],
      rows: [row(1, 'j', start + HOUR, 'ok'), row(2, 'j', start + HOUR, 'ok', 'b'), row(3, 'g', Date.parse('2026-03-08T07:00:00Z'), 'ok')],
      segments: [
        { job: 'j', instance: 'a', from: start + HOUR, to: start + HOUR + 60_000, slot: start + HOUR },
        { job: 'j', instance: 'b', from: start + HOUR + 30_000, to: start + HOUR + 90_000, slot: start + HOUR },
      ],
      silences: [],
      start,
      checkUntil: start + 8 * HOUR,
      end: start + 9 * HOUR,
      leaseTtlMs: 30_000,
      takeoverSlackMs: 100_000,
    });
    const kinds = [...new Set(result.violations.map((v) => v.kind))].sort();
    assert.deepEqual(kinds, ['DST gap slot not missed (skip policy)', 'overlapping runs', 'slot executed twice', 'slot neither run nor missed', 'slot recorded twice']);
  });

  it('clock skew excuses no overlap (leases are judged on the database\'s clock), only a reader\'s skewed started_at in the takeover check', () => {
    const job = defineJob({ name: 'j', description: 'j', schedule: '*/5 * * * *', run: body });
    const start = Date.parse('2026-03-05T00:00:00Z');
    const slot = (n: number) => start + n * 300_000;
    const rows = [1, 2].map((n) => ({ id: n, job: 'j', scheduled_for: slot(n), status: 'ok', started_at: slot(n), finished_at: slot(n) + 1, instance_id: 'sim-0#1', output: null, error: null }) as CronRunRow);
    const judge = (overlapMs: number, skewMs: number) =>
      checkOracle({
        definitions: [job],
        rows,
        segments: [
          { job: 'j', instance: 'sim-0#1', from: slot(1), to: slot(2) + overlapMs, slot: slot(1) },
          { job: 'j', instance: 'sim-1#2', from: slot(2), to: slot(2) + 60_000, slot: slot(2) },
        ],
        silences: [],
        skews: [{ machine: 'sim-1', from: start, to: slot(3), ms: skewMs }],
        start,
        checkUntil: slot(2),
        end: slot(3),
        leaseTtlMs: 20_000,
        takeoverSlackMs: 100_000,
      });
    assert.deepEqual(judge(0, 120_000).violations, [], 'back to back is no overlap');
    for (const [overlapMs, skewMs] of [[1, 120_000], [5_000, 120_000], [8_000, 5_000]] as const) {
      assert.deepEqual(judge(overlapMs, skewMs).violations.map((v) => v.kind), ['overlapping runs'], `${overlapMs} ms of overlap with ${skewMs} ms of skew`);
    }
    // sim-1 (2 min ahead) skipped slot 3 for "lease held by sim-0#1", crashed at slot 2: its started_at reads 2 min late.
    const skipped = { id: 3, job: 'j', scheduled_for: slot(3), status: 'skipped', started_at: slot(2) + 90_000 + 120_000, finished_at: null, instance_id: 'sim-1#2', output: 'lease held by sim-0#1', error: null } as CronRunRow;
    const takeover = (skewMs: number) =>
      checkOracle({
        definitions: [job],
        rows: [...rows, skipped],
        segments: [],
        silences: [{ instance: 'sim-0#1', from: slot(2), to: Number.POSITIVE_INFINITY, kind: 'crash' }],
        skews: [{ machine: 'sim-1', from: start, to: slot(4), ms: skewMs }],
        start,
        checkUntil: slot(2),
        end: slot(4),
        leaseTtlMs: 20_000,
        takeoverSlackMs: 100_000,
      }).violations.map((v) => v.kind);
    assert.deepEqual(takeover(120_000), [], 'the reader\'s own clock wrote started_at 2 min late');
    assert.deepEqual(takeover(0), ['silent holder kept its lease past TTL']);
  });

  it('lateness: judges status().late and the alerts at every check; an episode raised twice or never raised is a violation', () => {
    const job = defineJob({ name: 'j', description: 'j', schedule: '*/5 * * * *', run: body });
    const start = Date.parse('2026-03-05T00:00:00Z');
    assert.equal(expectedLateAfter(job), 600_000, '5-minute period: max(10 min, 5 + 5 min)');
    const recorder = new AlertRecorder(() => 0, () => 0);
    const ok = { id: 1, job: 'j', scheduled_for: start, status: 'ok', dry_run: 0, started_at: start } as CronRunRow;
    recorder.committed(1);
    const check = (minutes: number, late: boolean) => recorder.checks.push({ seq: recorder.next(), world: start + minutes * 60_000, event: minutes, instance: 'sim-0#1', now: start + minutes * 60_000, createdAt: start, late: new Map([['j', late]]) });
    const alert = (state: 'firing' | 'resolved') =>
      recorder.alerts.push({ seq: recorder.next(), world: 0, event: { type: 'job.late', state, job: 'j', at: '', summary: '', details: {}, instance: 'sim-0#1' } });
    check(5, false);
    check(11, true);
    alert('firing');
    check(12, true);
    alert('firing'); // a second instance raising the same episode again
    check(13, false); // status() says on time although nothing succeeded since
    const result = checkLateness({ definitions: [job], lateAfter: new Map([['j', 600_000]]), rows: [ok], recorder });
    assert.deepEqual([...new Set(result.violations.map((v) => v.kind))].sort(), ['job.late raised twice without being cleared', 'late episode not cleared', 'status().late disagrees with the oracle']);
    assert.equal(result.episodes.get('j'), 2);
    assert.equal(result.judged, 4);
  });
});

describe('simulator world', () => {
  it('keeps virtual time in whole milliseconds (a fractional clock made every PostgreSQL ledger finish fail)', async () => {
    const world = new World(Date.UTC(2026, 2, 5));
    const seen: number[] = [];
    world.at(world.now + 1234.567, undefined, () => seen.push(world.now));
    world.at(world.now + 0.2, undefined, () => seen.push(world.now));
    await world.run(world.now + 10_000);
    assert.ok(seen.length === 2 && seen.every(Number.isInteger), String(seen));
  });
});

describe(`simulator: short fixed-seed runs on ${testEngine()} (real scheduler, runner, leases, ledger)`, () => {
  // Three virtual days each on SQLite, a day and a half on PostgreSQL (its round trips make a virtual day
  // take ~13 s; both stay under a minute on a quiet machine): a 3-hour all-down outage, crashes, pauses, one
  // machine's clock skewed, outside callers, across a DST change: New York spring (8 March 07:00Z), Berlin
  // spring (29 March 01:00Z), New York fall (1 November 06:00Z). Longer runs: npm run simulate.
  const days = testEngine() === 'postgres' ? 1.5 : 3;
  const cases = [
    { seed: 1, start: '2026-03-07T00:00:00Z' },
    { seed: 2, start: '2026-03-28T00:00:00Z' },
    { seed: 3, start: '2026-10-31T00:00:00Z' },
  ];
  for (const { seed, start } of cases) {
    it(`seed ${seed}, ${days} days from ${start}: no violations`, async () => {
      const report = await simulate({ seed, days, instances: 3, start: Date.parse(start) });
      const first = report.violations[0];
      assert.equal(report.violations.length, 0, first === undefined ? '' : `seed ${seed}: ${first.kind} · ${first.job} · ${first.slot === null ? 'ad hoc' : new Date(first.slot).toISOString()} · ${first.detail}`);
      assert.equal(report.faults.allDown, 1);
      assert.ok(report.faults.skews >= 1, 'one machine\'s clock was skewed');
      assert.ok(report.faults.calls > 0);
      assert.ok(report.tallies.reduce((n, t) => n + t.slots, 0) > days * 3000);
      assert.ok(report.latenessJudged > 0 && report.alerts > 0, 'the alert monitor checked lateness and sent alerts');
    });
  }
});
