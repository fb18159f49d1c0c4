import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { ConfigError } from '../../src/config/index.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { isDstGapSlot, latestSlot, nextSlot, parseSchedule, type DstPolicy } from '../../src/jobs/schedule.js';
import { job, openJobsFixture, type JobsFixture } from './fixture.js';

/**
 * Issue 13 §2: the per-job DST policy, JOB_<NAME>_DST = skip | run-once |
 * run-each, across both 2026 transitions in Europe/Berlin and
 * America/New_York. Each case drives the real decide → record → run path
 * (DefaultJobsService.runDueJob with an injected clock, stepping every 10
 * minutes through the window) and reads the ledger it left.
 *
 * 2026 transitions (UTC):
 * - Berlin spring 29 Mar 01:00 (02:00 CET → 03:00 CEST); fall 25 Oct 01:00 (03:00 CEST → 02:00 CET);
 * - New York spring 8 Mar 07:00 (02:00 EST → 03:00 EDT); fall 1 Nov 06:00 (02:00 EDT → 01:00 EST).
 */
type Row = [slot: string, status: string, reason: string | null];
interface Case {
  readonly name: string;
  readonly zone: string;
  readonly schedule: string;
  readonly from: string;
  readonly to: string;
  readonly expected: Readonly<Record<DstPolicy, readonly Row[]>>;
}

const same = (rows: readonly Row[]): Record<DstPolicy, readonly Row[]> => ({ skip: rows, 'run-once': rows, 'run-each': rows });

const CASES: readonly Case[] = [
  {
    name: 'Berlin spring-forward: 02:30 does not exist',
    zone: 'Europe/Berlin',
    schedule: '30 2 * * *',
    from: '2026-03-28T22:00:00Z',
    to: '2026-03-29T04:00:00Z',
    expected: {
      skip: [['2026-03-29T01:00:00.000Z', 'missed', 'dst-gap']],
      'run-once': [['2026-03-29T01:00:00.000Z', 'ok', null]],
      'run-each': [['2026-03-29T01:00:00.000Z', 'ok', null]],
    },
  },
  {
    name: 'Berlin fall-back: 02:30 happens twice',
    zone: 'Europe/Berlin',
    schedule: '30 2 * * *',
    from: '2026-10-24T22:00:00Z',
    to: '2026-10-25T04:00:00Z',
    expected: {
      skip: [['2026-10-25T00:30:00.000Z', 'ok', null]],
      'run-once': [['2026-10-25T00:30:00.000Z', 'ok', null]],
      'run-each': [
        ['2026-10-25T00:30:00.000Z', 'ok', null],
        ['2026-10-25T01:30:00.000Z', 'ok', null],
      ],
    },
  },
  {
    name: 'New York spring-forward: 02:30 does not exist',
    zone: 'America/New_York',
    schedule: '30 2 * * *',
    from: '2026-03-08T04:00:00Z',
    to: '2026-03-08T10:00:00Z',
    expected: {
      skip: [['2026-03-08T07:00:00.000Z', 'missed', 'dst-gap']],
      'run-once': [['2026-03-08T07:00:00.000Z', 'ok', null]],
      'run-each': [['2026-03-08T07:00:00.000Z', 'ok', null]],
    },
  },
  {
    name: 'New York fall-back: 01:30 happens twice',
    zone: 'America/New_York',
    schedule: '30 1 * * *',
    from: '2026-11-01T03:00:00Z',
    to: '2026-11-01T09:00:00Z',
    expected: {
      skip: [['2026-11-01T05:30:00.000Z', 'ok', null]],
      'run-once': [['2026-11-01T05:30:00.000Z', 'ok', null]],
      'run-each': [
        ['2026-11-01T05:30:00.000Z', 'ok', null],
        ['2026-11-01T06:30:00.000Z', 'ok', null],
      ],
    },
  },
  {
    name: 'New York fall-back, a list of times: 01:30 twice, 02:30 once',
    zone: 'America/New_York',
    schedule: '30 1,2 * * *',
    from: '2026-11-01T03:00:00Z',
    to: '2026-11-01T09:00:00Z',
    expected: {
      skip: [['2026-11-01T05:30:00.000Z', 'ok', null], ['2026-11-01T07:30:00.000Z', 'ok', null]],
      'run-once': [['2026-11-01T05:30:00.000Z', 'ok', null], ['2026-11-01T07:30:00.000Z', 'ok', null]],
      'run-each': [['2026-11-01T05:30:00.000Z', 'ok', null], ['2026-11-01T06:30:00.000Z', 'ok', null], ['2026-11-01T07:30:00.000Z', 'ok', null]],
    },
  },
  {
    // Interval schedules follow real time under every policy: no slot in the gap, two in the repeated hour.
    name: 'Berlin spring-forward, hourly: no 02:00, nothing missed',
    zone: 'Europe/Berlin',
    schedule: '0 * * * *',
    from: '2026-03-28T23:30:00Z',
    to: '2026-03-29T02:30:00Z',
    expected: same([
      ['2026-03-29T00:00:00.000Z', 'ok', null],
      ['2026-03-29T01:00:00.000Z', 'ok', null],
      ['2026-03-29T02:00:00.000Z', 'ok', null],
    ]),
  },
  {
    name: 'New York fall-back, hourly: 01:00 EDT and 01:00 EST are two slots',
    zone: 'America/New_York',
    schedule: '0 * * * *',
    from: '2026-11-01T04:30:00Z',
    to: '2026-11-01T07:30:00Z',
    expected: same([
      ['2026-11-01T05:00:00.000Z', 'ok', null],
      ['2026-11-01T06:00:00.000Z', 'ok', null],
      ['2026-11-01T07:00:00.000Z', 'ok', null],
    ]),
  },
];

const POLICIES: readonly DstPolicy[] = ['skip', 'run-once', 'run-each'];
const STEP_MS = 10 * 60_000;
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

describe('per-job DST policy through the scheduler and the ledger (injected clock)', () => {
  const clock = new TestClock(Date.parse('2026-01-01T00:00:00Z'));
  const ran: Array<{ job: string; slot: number | null }> = [];
  let fixture: JobsFixture;
  const jobName = (index: number, policy: DstPolicy) => `dst-${index}-${policy}`;
  before(async () => {
    fixture = await openJobsFixture({
      clock,
      definitions: CASES.flatMap((c, index) =>
        POLICIES.map((policy) =>
          job({ name: jobName(index, policy), schedule: c.schedule, timezone: c.zone, dst: policy, run: async ({ scheduledFor }) => (ran.push({ job: jobName(index, policy), slot: scheduledFor }), { ran: 1 }) }),
        ),
      ),
    });
  });
  after(() => fixture.close());

  CASES.forEach((c, index) => {
    for (const policy of POLICIES) {
      it(`${c.name} [${policy}] (${slug(c.zone)} ${c.schedule})`, async () => {
        const name = jobName(index, policy);
        const registered = fixture.service.registry.get(name);
        const from = Date.parse(c.from);
        for (let now = from; now <= Date.parse(c.to); now += STEP_MS) {
          clock.set(now);
          await fixture.service.runDueJob(registered, 'schedule', {});
        }
        // The first tick records the slot before the window (a new job runs its latest slot); compare inside it.
        const rows = (await fixture.ledger.listByJob(name)).reverse().filter((row) => (row.scheduled_for ?? 0) > from);
        const actual: Row[] = rows.map((row) => [new Date(Number(row.scheduled_for)).toISOString(), row.status, row.status === 'missed' ? row.output : null]);
        assert.deepEqual(actual, c.expected[policy]);
        const bodies = ran.filter((r) => r.job === name && (r.slot ?? 0) > from).map((r) => new Date(Number(r.slot)).toISOString());
        assert.deepEqual(bodies, c.expected[policy].filter((row) => row[1] === 'ok').map((row) => row[0]), 'the body ran once per ok slot, never for a missed one');
      });
    }
  });
});

describe('DST policy: slot maths and configuration', () => {
  it('run-each yields the repeated time twice, in order, from any point (New York, 01:30)', () => {
    const each = parseSchedule('30 1 * * *', 'America/New_York', 'run-each');
    assert.equal(new Date(nextSlot(each, Date.parse('2026-11-01T05:30:00Z')) ?? 0).toISOString(), '2026-11-01T06:30:00.000Z');
    assert.equal(new Date(nextSlot(each, Date.parse('2026-11-01T06:30:00Z')) ?? 0).toISOString(), '2026-11-02T06:30:00.000Z');
    assert.equal(new Date(latestSlot(each, Date.parse('2026-11-01T07:00:00Z')) ?? 0).toISOString(), '2026-11-01T06:30:00.000Z');
    const once = parseSchedule('30 1 * * *', 'America/New_York', 'run-once');
    assert.equal(new Date(latestSlot(once, Date.parse('2026-11-01T07:00:00Z')) ?? 0).toISOString(), '2026-11-01T05:30:00.000Z');
  });

  it('a gap slot is one croner moved (its local time does not match the expression)', () => {
    const berlin = parseSchedule('30 2 * * *', 'Europe/Berlin', 'skip');
    assert.equal(isDstGapSlot(berlin, Date.parse('2026-03-29T01:00:00Z')), true);
    assert.equal(isDstGapSlot(berlin, Date.parse('2026-03-30T00:30:00Z')), false);
  });

  it('an unknown JOB_<NAME>_DST value stops start-up with a ConfigError naming the variable', () => {
    const definitions = [job({ name: 'nightly', schedule: '30 2 * * *', run: async () => ({}) })];
    assert.throws(
      () => new JobRegistry(definitions, { nightly: { DST: 'twice' } }),
      (error: unknown) => error instanceof ConfigError && error.setting === 'JOB_NIGHTLY_DST' && /skip, run-once or run-each/.test(error.message),
    );
    const registry = new JobRegistry(definitions, { nightly: { DST: 'Run-Each' } });
    assert.equal(registry.get('nightly').schedule.dst, 'run-each');
  });
});
