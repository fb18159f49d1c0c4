import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latestSlot, nextSlot, parseSchedule, ScheduleError, slotsBetween } from '../../src/jobs/schedule.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const at = (text: string) => Date.parse(text);

/** The next `n` slots after `from`, as ISO strings. */
function next(expression: string, timezone: string, from: string, n: number): string[] {
  const schedule = parseSchedule(expression, timezone);
  const out: string[] = [];
  let cursor = at(from);
  for (let i = 0; i < n; i += 1) {
    const slot = nextSlot(schedule, cursor);
    assert.notEqual(slot, null);
    out.push(iso(slot) as string);
    cursor = slot as number;
  }
  return out;
}

describe('next slot', () => {
  const cases: Array<[string, string, string, string, string[]]> = [
    ['every minute, exclusive of now', '* * * * *', 'UTC', '2026-01-01T10:00:00.000Z', ['2026-01-01T10:01:00.000Z', '2026-01-01T10:02:00.000Z']],
    ['every minute, from mid-minute', '* * * * *', 'UTC', '2026-01-01T10:00:30.500Z', ['2026-01-01T10:01:00.000Z']],
    ['daily midnight UTC', '0 0 * * *', 'UTC', '2026-01-01T00:00:00.000Z', ['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']],
    ['every second (6 fields)', '* * * * * *', 'UTC', '2026-01-01T00:00:00.500Z', ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z']],
    ['02:00 in Berlin (CET = UTC+1)', '0 2 * * *', 'Europe/Berlin', '2026-01-10T00:00:00.000Z', ['2026-01-10T01:00:00.000Z']],
    // Berlin springs forward on 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
    ['Berlin gap: 02:30 runs once at 03:00 CEST', '30 2 * * *', 'Europe/Berlin', '2026-03-28T02:00:00.000Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
    ['Berlin gap: 02:00 runs once at 03:00 CEST', '0 2 * * *', 'Europe/Berlin', '2026-03-28T02:00:00.000Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z']],
    ['Berlin gap: hourly :30 skips the hour that does not exist', '30 * * * *', 'Europe/Berlin', '2026-03-29T00:00:00.000Z', ['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z']],
    // Berlin falls back on 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
    ['Berlin fold: 02:30 runs once (first occurrence)', '30 2 * * *', 'Europe/Berlin', '2026-10-24T02:00:00.000Z', ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
    ['Berlin fold: a list of hours is fixed-time too', '30 1,2 * * *', 'Europe/Berlin', '2026-10-24T23:00:00.000Z', ['2026-10-24T23:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T00:30:00.000Z']],
    ['Berlin fold: hourly follows real hours (two distinct instants)', '30 * * * *', 'Europe/Berlin', '2026-10-25T00:00:00.000Z', ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T02:30:00.000Z']],
    // New York springs forward on 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
    ['New York gap: 02:30 runs once at 03:00 EDT', '30 2 * * *', 'America/New_York', '2026-03-07T12:00:00.000Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']],
    // New York falls back on 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:30 happens twice.
    ['New York fold: 01:30 runs once (first occurrence, EDT)', '30 1 * * *', 'America/New_York', '2026-10-31T12:00:00.000Z', ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
    ['New York fold: from inside the repeated hour, not again', '30 1 * * *', 'America/New_York', '2026-11-01T05:45:00.000Z', ['2026-11-02T06:30:00.000Z']],
    ['New York fold: 01:30 and 02:30 once each', '30 1,2 * * *', 'America/New_York', '2026-10-31T12:00:00.000Z', ['2026-11-01T05:30:00.000Z', '2026-11-01T07:30:00.000Z', '2026-11-02T06:30:00.000Z']],
  ];
  for (const [name, expression, timezone, from, expected] of cases) {
    it(name, () => assert.deepEqual(next(expression, timezone, from, expected.length), expected));
  }
});

describe('latest slot at or before now', () => {
  const cases: Array<[string, string, string, string, string | null]> = [
    ['exactly on a slot counts', '0 * * * *', 'UTC', '2026-01-01T10:00:00.000Z', '2026-01-01T10:00:00.000Z'],
    ['1 ms before a slot', '0 * * * *', 'UTC', '2026-01-01T09:59:59.999Z', '2026-01-01T09:00:00.000Z'],
    ['Berlin gap slot is at 03:00 CEST', '30 2 * * *', 'Europe/Berlin', '2026-03-29T02:00:00.000Z', '2026-03-29T01:00:00.000Z'],
    ['New York fold: after both 01:30s, the first one', '30 1 * * *', 'America/New_York', '2026-11-01T07:00:00.000Z', '2026-11-01T05:30:00.000Z'],
  ];
  for (const [name, expression, timezone, now, expected] of cases) {
    it(name, () => assert.equal(iso(latestSlot(parseSchedule(expression, timezone), at(now))), expected));
  }
});

describe('parseSchedule', () => {
  it('measures the period', () => {
    assert.equal(parseSchedule('* * * * *').periodMs, 60_000);
    assert.equal(parseSchedule('0 * * * *').periodMs, 3_600_000);
    assert.equal(parseSchedule('* * * * * *').periodMs, 1000);
  });
  const bad: Array<[string, string, string, 'expression' | 'timezone']> = [
    ['four fields', '0 2 * *', 'UTC', 'expression'],
    ['minute out of range', '61 2 * * *', 'UTC', 'expression'],
    ['words', 'every day', 'UTC', 'expression'],
    ['seven fields (years) are refused', '0 0 0 1 1 * 2020', 'UTC', 'expression'],
    ['unknown zone', '0 2 * * *', 'Mars/Olympus', 'timezone'],
  ];
  for (const [name, expression, timezone, field] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseSchedule(expression, timezone), (error: unknown) => error instanceof ScheduleError && error.field === field);
    });
  }
});

describe('slotsBetween', () => {
  it('lists (after, until] in order', () => {
    const { slots, truncated } = slotsBetween(parseSchedule('0 * * * *'), at('2026-01-01T07:00:00Z'), at('2026-01-01T10:00:00Z'), 100);
    assert.deepEqual(slots.map(iso), ['2026-01-01T08:00:00.000Z', '2026-01-01T09:00:00.000Z', '2026-01-01T10:00:00.000Z']);
    assert.equal(truncated, 0);
  });
  it('keeps only the most recent `limit` slots', () => {
    const { slots, truncated } = slotsBetween(parseSchedule('* * * * *'), at('2026-01-01T00:00:00Z'), at('2026-01-01T01:00:00Z'), 5);
    assert.deepEqual(slots.map(iso), ['2026-01-01T00:56:00.000Z', '2026-01-01T00:57:00.000Z', '2026-01-01T00:58:00.000Z', '2026-01-01T00:59:00.000Z', '2026-01-01T01:00:00.000Z']);
    assert.ok(truncated > 0);
  });
});

describe('nextSlot memo (issue 13: the simulation spent half its time in croner)', () => {
  it('answers the same in any query order, across a fall-back with run-each', () => {
    // 25 October 2026, Berlin: 02:30 CEST = 00:30Z and 02:30 CET = 01:30Z are both slots under run-each.
    const expected: Array<[string, string]> = [
      ['2026-10-24T00:31:00Z', '2026-10-25T00:30:00.000Z'],
      ['2026-10-25T00:29:59Z', '2026-10-25T00:30:00.000Z'],
      ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00.000Z'],
      ['2026-10-25T01:00:00Z', '2026-10-25T01:30:00.000Z'],
      ['2026-10-25T01:30:00Z', '2026-10-26T01:30:00.000Z'],
      ['2026-10-25T12:00:00Z', '2026-10-26T01:30:00.000Z'],
    ];
    for (const order of [[0, 1, 2, 3, 4, 5], [5, 3, 1, 4, 0, 2], [2, 2, 0, 5, 5, 1, 3, 4]]) {
      const schedule = parseSchedule('30 2 * * *', 'Europe/Berlin', 'run-each');
      for (const i of order) {
        const [after, next] = expected[i]!;
        assert.equal(new Date(nextSlot(schedule, Date.parse(after))!).toISOString(), next, `after ${after}`);
      }
    }
  });

  it('answers as croner does for clocks a few seconds apart, small steps back and jumps over several slots', () => {
    // A gap found from a known slot serves every query up to the next one (instances with skewed clocks);
    // a query past several slots must not be answered from an older gap.
    for (const [expression, zone] of [['*/5 * * * *', 'UTC'], ['0 * * * *', 'America/New_York'], ['30 2 * * *', 'Europe/Berlin']] as const) {
      const schedule = parseSchedule(expression, zone);
      let t = Date.UTC(2026, 2, 7);
      let state = 7;
      const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
      for (let i = 0; i < 3000; i += 1) {
        const r = random();
        t += r < 0.6 ? Math.floor(random() * 90_000) : r < 0.8 ? -Math.floor(random() * 40_000) : Math.floor(random() * 5 * schedule.periodMs);
        const expected = schedule.cron.nextRun(new Date(t))?.getTime() ?? null;
        assert.equal(nextSlot(schedule, t), expected, `${expression} ${zone} after ${new Date(t).toISOString()}`);
      }
    }
  });

  it('parses a schedule once; UTC slots are the same as a zone at UTC+0 without DST', () => {
    assert.equal(parseSchedule('*/5 * * * *'), parseSchedule('*/5 * * * *', 'UTC'));
    const utc = parseSchedule('7 3,15 * * 1-5', 'UTC');
    const reykjavik = parseSchedule('7 3,15 * * 1-5', 'Atlantic/Reykjavik');
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2026, 11, 31); t += 7 * 3_600_000 + 123_457) {
      assert.equal(nextSlot(utc, t), nextSlot(reykjavik, t));
    }
  });
});
