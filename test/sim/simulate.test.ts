import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineJob } from '../../src/jobs/define.js';
import type { CronRunRow } from '../../src/db/repositories/cron-runs.js';
import { checkOracle, expectedSlots } from '../../sim/oracle.js';
import { simulate } from '../../sim/simulate.js';
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
    assert.deepEqual(kinds, ['DST gap slot not missed (skip policy)', 'overlapping runs', 'slot neither run nor missed', 'slot recorded twice']);
  });
});

describe(`simulator: short fixed-seed runs on ${testEngine()} (real scheduler, runner, leases, ledger)`, () => {
  // Twelve virtual hours each (one 3-hour all-down outage, crashes, pauses, outside callers), across a DST
  // change: New York spring (07:00Z), Berlin spring (01:00Z), New York fall (06:00Z). Longer runs: npm run simulate.
  const cases = [
    { seed: 1, start: '2026-03-08T00:00:00Z' },
    { seed: 2, start: '2026-03-28T18:00:00Z' },
    { seed: 3, start: '2026-10-31T23:00:00Z' },
  ];
  for (const { seed, start } of cases) {
    it(`seed ${seed} from ${start}: no violations`, async () => {
      const report = await simulate({ seed, days: 0.5, instances: 3, start: Date.parse(start) });
      const first = report.violations[0];
      assert.equal(report.violations.length, 0, first === undefined ? '' : `seed ${seed}: ${first.kind} · ${first.job} · ${first.slot === null ? 'ad hoc' : new Date(first.slot).toISOString()} · ${first.detail}`);
      assert.equal(report.faults.allDown, 1);
      assert.ok(report.faults.calls > 0);
      assert.ok(report.tallies.reduce((n, t) => n + t.slots, 0) > 1500);
    });
  }
});
