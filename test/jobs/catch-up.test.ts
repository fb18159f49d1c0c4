import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { decideDue } from '../../src/jobs/catch-up.js';
import { defaultLateAfter, lateness } from '../../src/jobs/lateness.js';
import { parseSchedule } from '../../src/jobs/schedule.js';
import type { CatchUpPolicy } from '../../src/jobs/types.js';
import { job, openJobsFixture, type JobsFixture } from './fixture.js';

const T = (hhmm: string) => Date.parse(`2026-01-01T${hhmm}:00Z`);
const hourly = parseSchedule('0 * * * *');
const LATEST: CatchUpPolicy = { kind: 'latest' };
const NONE: CatchUpPolicy = { kind: 'none' };
const ALL_2H: CatchUpPolicy = { kind: 'all', windowMs: 2 * 3_600_000 };

describe('decideDue (pure)', () => {
  // [name, policy, lastSlot, now, run [slot, late], missed]
  const cases: Array<[string, CatchUpPolicy, number | null, number, Array<[number, boolean]>, number[]]> = [
    ['nothing due before the next slot', LATEST, T('10:00'), T('10:59'), [], []],
    ['the next slot on time', LATEST, T('10:00'), T('11:00'), [[T('11:00'), false]], []],
    ['on time within the tolerance (60 s)', LATEST, T('10:00'), T('11:00') + 60_000, [[T('11:00'), false]], []],
    ['late after the tolerance', LATEST, T('10:00'), T('11:00') + 60_001, [[T('11:00'), true]], []],
    ['latest after a 3-hour outage: newest runs late, older missed', LATEST, T('07:00'), T('10:30'), [[T('10:00'), true]], [T('08:00'), T('09:00')]],
    ['latest when the outage ends on a slot: it runs on time', LATEST, T('07:00'), T('10:00'), [[T('10:00'), false]], [T('08:00'), T('09:00')]],
    ['none after a 3-hour outage: all missed, wait for the next', NONE, T('07:00'), T('10:30'), [], [T('08:00'), T('09:00'), T('10:00')]],
    ['none when the outage ends on a slot: that one runs', NONE, T('07:00'), T('10:00'), [[T('10:00'), false]], [T('08:00'), T('09:00')]],
    ['all within 2 h after a 3-hour outage', ALL_2H, T('06:00'), T('10:30'), [[T('09:00'), true], [T('10:00'), true]], [T('07:00'), T('08:00')]],
    ['no history: only the most recent slot, nothing missed', LATEST, null, T('10:30'), [[T('10:00'), true]], []],
    ['no history with none: a stale slot is recorded missed', NONE, null, T('10:30'), [], [T('10:00')]],
  ];
  for (const [name, policy, lastSlot, now, run, missed] of cases) {
    it(name, () => {
      const decision = decideDue(hourly, policy, lastSlot, now);
      assert.deepEqual(decision.run.map((d) => [d.slot, d.late]), run);
      assert.deepEqual(decision.missed, missed.map((slot) => ({ slot, reason: 'catch-up' })));
    });
  }
  it('a 6-field every-second schedule uses a 1 s tolerance', () => {
    const decision = decideDue(parseSchedule('* * * * * *'), LATEST, T('10:00'), T('10:00') + 2500);
    assert.deepEqual(decision.run.map((d) => [d.slot, d.late]), [[T('10:00') + 2000, false]]);
    assert.deepEqual(decision.missed, [{ slot: T('10:00') + 1000, reason: 'catch-up' }]);
  });
});

// Issue 11 replaced the old rule (late when the slot after the last success is older than one
// period of grace, at most 1h) with a threshold after the last successful slot (lateness.ts).
describe('lateness (pure)', () => {
  const every = parseSchedule('* * * * *');
  const tenMinutes = defaultLateAfter(every);
  const at = (lastSuccessSlot: number | null, now: number, extra: { resumedAt?: number; active?: boolean } = {}) =>
    lateness({ lastSuccessSlot, anchor: T('10:00') + 5000, resumedAt: extra.resumedAt ?? null, lateAfterMs: tenMinutes, active: extra.active ?? true, now });
  it('default thresholds: max(10m, period + min(period, 1h)), the floor is CRON_LATE_AFTER', () => {
    assert.equal(tenMinutes, 600_000);
    assert.equal(defaultLateAfter(parseSchedule('0 * * * *')), 2 * 3_600_000);
    assert.equal(defaultLateAfter(parseSchedule('0 2 * * *')), 25 * 3_600_000);
    assert.equal(defaultLateAfter(every, 300_000), 300_000);
    assert.equal(defaultLateAfter(parseSchedule('0 * * * *'), 300_000), 2 * 3_600_000);
  });
  const cases: Array<[string, number | null, number, boolean, number]> = [
    ['success at the last slot', T('10:00'), T('10:05'), false, 0],
    ['exactly the threshold', T('10:00'), T('10:10'), false, 0],
    ['1 ms past it: late by 1 s', T('10:00'), T('10:10') + 1, true, 1],
    ['90 s past it', T('10:00'), T('10:11') + 30_000, true, 90],
    ['never succeeded, anchored at start-up, within the threshold', null, T('10:10'), false, 0],
    ['never succeeded, past anchor + threshold', null, T('10:10') + 6000, true, 1],
  ];
  for (const [name, lastSuccess, now, late, lateBy] of cases) {
    it(name, () => assert.deepEqual(at(lastSuccess, now), { late, lateBySeconds: lateBy }));
  }
  it('a paused or disabled job is never late; after a resume it counts from the resume', () => {
    assert.deepEqual(at(T('10:00'), T('12:00'), { active: false }), { late: false, lateBySeconds: 0 });
    assert.deepEqual(at(T('10:00'), T('12:00'), { resumedAt: T('11:55') }), { late: false, lateBySeconds: 0 });
    assert.deepEqual(at(T('10:00'), T('12:00'), { resumedAt: T('11:49') }), { late: true, lateBySeconds: 60 });
  });
  it('a daily job is not late at 23:00 after a midnight success, and is 25 h later', () => {
    const daily = parseSchedule('0 0 * * *');
    const check = (now: number) => lateness({ lastSuccessSlot: T('00:00'), anchor: 0, resumedAt: null, lateAfterMs: defaultLateAfter(daily), active: true, now }).late;
    assert.equal(check(T('23:00')), false);
    assert.equal(check(Date.parse('2026-01-02T01:00:00Z')), false);
    assert.equal(check(Date.parse('2026-01-02T01:00:01Z')), true);
  });
});

describe('catch-up after a 3-hour outage, recorded in the ledger', () => {
  const policies: Array<[string, string, string[], string[]]> = [
    // [policy, CATCH_UP override, ok slots (HH:MM) with trigger, missed slots]
    ['latest', 'latest', ['10:00 catch-up'], ['08:00', '09:00']],
    ['none', 'none', [], ['08:00', '09:00', '10:00']],
    ['all:2h', 'all:2h', ['09:00 catch-up', '10:00 catch-up'], ['08:00']],
  ];
  for (const [name, override, okSlots, missedSlots] of policies) {
    describe(name, () => {
      const clock = new TestClock(T('07:00'));
      const ran: number[] = [];
      let fixture: JobsFixture;
      before(async () => {
        fixture = await openJobsFixture({
          clock,
          definitions: [job({ name: 'hourly', schedule: '0 * * * *', run: async ({ scheduledFor }) => (ran.push(scheduledFor ?? -1), { n: 1 }) })],
          overrides: { hourly: { CATCH_UP: override } },
        });
      });
      after(() => fixture.close());

      it('runs what the policy says and records the rest as missed', async () => {
        const registered = fixture.service.registry.get('hourly');
        await fixture.service.runDueJob(registered, 'schedule', {});
        assert.deepEqual(ran, [T('07:00')], 'the 07:00 slot runs on time');
        clock.set(T('10:30'));
        ran.length = 0;
        const summaries = await fixture.service.runDueJob(registered, 'schedule', {});
        const hhmm = (ms: number | null) => new Date(ms as number).toISOString().slice(11, 16);
        const rows = (await fixture.ledger.listByJob('hourly')).reverse().slice(1);
        assert.deepEqual(
          rows.filter((r) => r.status === 'ok').map((r) => `${hhmm(r.scheduled_for)} ${r.trigger}`),
          okSlots,
        );
        assert.deepEqual(rows.filter((r) => r.status === 'missed').map((r) => hhmm(r.scheduled_for)).sort(), missedSlots);
        assert.equal(ran.length, okSlots.length, 'each run slot ran exactly once');
        assert.equal(summaries.filter((s) => s.status === 'missed').length, missedSlots.length);
        // Deciding again at the same moment changes nothing: the slots are recorded.
        const again = await fixture.service.runDueJob(registered, 'schedule', {});
        assert.deepEqual(again, []);
        assert.equal(ran.length, okSlots.length);
      });
    });
  }
});
