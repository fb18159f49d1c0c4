import type { CronRunRow } from '../src/db/repositories/cron-runs.js';
import type { JobDefinition } from '../src/jobs/types.js';
import type { BodySegment } from './jobs.js';

/** A slot the schedule alone says exists; `gap` ones (DST skip policy) must be recorded missed with reason dst-gap. */
export interface ExpectedSlot {
  readonly slot: number;
  readonly kind: 'run' | 'gap';
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function wall(ms: number, timezone: string): { date: string; time: string } {
  let format = formatters.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    formatters.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(ms).map((part) => [part.type, part.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

const QUARTER = 900_000;

/**
 * The slots of `definition` in (from, to], computed without the scheduler's
 * code: interval schedules from real time (the zones used have whole-hour
 * offsets), fixed daily times by scanning wall-clock time with Intl and
 * applying the job's DST policy (gap: first instant after it, or `gap` under
 * skip; repeated time: first occurrence, both under run-each).
 */
export function expectedSlots(definition: JobDefinition, from: number, to: number): ExpectedSlot[] {
  const [minute = '', hour = '', ...rest] = definition.schedule.trim().split(/\s+/);
  if (rest.length !== 3 || rest.some((field) => field !== '*')) throw new Error(`oracle: unsupported schedule ${definition.schedule}`);
  const every = (stepMs: number, offsetMs = 0): ExpectedSlot[] => {
    const slots: ExpectedSlot[] = [];
    for (let slot = Math.floor((from - offsetMs) / stepMs) * stepMs + offsetMs; slot <= to; slot += stepMs) if (slot > from) slots.push({ slot, kind: 'run' });
    return slots;
  };
  if (hour === '*') {
    if (minute === '*') return every(60_000);
    const step = /^\*\/(\d+)$/.exec(minute);
    if (step) return every(Number(step[1]) * 60_000);
    if (/^\d+$/.test(minute)) return every(3_600_000, Number(minute) * 60_000);
    throw new Error(`oracle: unsupported schedule ${definition.schedule}`);
  }
  if (!/^\d+$/.test(minute) || !/^\d+$/.test(hour)) throw new Error(`oracle: unsupported schedule ${definition.schedule}`);
  const target = `${hour.padStart(2, '0')}:${minute.padStart(2, '0')}`;
  const policy = definition.dst ?? 'run-once';
  // Scan a day either side, then group instants by local date.
  const byDate = new Map<string, { hits: number[]; after: number | undefined }>();
  const start = Math.floor(from / QUARTER) * QUARTER - 86_400_000;
  for (let t = start; t <= to + 86_400_000; t += QUARTER) {
    const local = wall(t, definition.timezone);
    let day = byDate.get(local.date);
    if (day === undefined) byDate.set(local.date, (day = { hits: [], after: undefined }));
    if (local.time === target) day.hits.push(t);
    else if (local.time > target && day.after === undefined) day.after = t;
  }
  const dates = [...byDate.keys()].sort();
  const slots: ExpectedSlot[] = [];
  // The first and last scanned dates are partial; the range filter below drops their slots anyway.
  for (const date of dates.slice(1, -1)) {
    const day = byDate.get(date)!;
    if (day.hits.length === 0) {
      if (day.after !== undefined) slots.push({ slot: day.after, kind: policy === 'skip' ? 'gap' : 'run' });
    } else {
      for (const hit of policy === 'run-each' ? day.hits : day.hits.slice(0, 1)) slots.push({ slot: hit, kind: 'run' });
    }
  }
  return slots.filter((expected) => expected.slot > from && expected.slot <= to);
}

/** When an incarnation could not have renewed a lease: crashed (for ever) or paused (until it resumed). */
export interface Silence {
  readonly instance: string;
  readonly from: number;
  readonly to: number;
  readonly kind: 'crash' | 'pause';
}

/** One machine's clock was `ms` off world time during [from, to] (every incarnation of `machine`, i.e. `sim-<n>#…`). */
export interface SkewWindow {
  readonly machine: string;
  readonly from: number;
  readonly to: number;
  readonly ms: number;
}

/** The largest clock error of `instance` (an incarnation id) at any time in [from, to]; 0 when none. */
export function skewOf(skews: readonly SkewWindow[], instance: string, from: number, to: number): number {
  let largest = 0;
  for (const window of skews) {
    if (instance.startsWith(`${window.machine}#`) && window.from <= to && from <= window.to) largest = Math.max(largest, Math.abs(window.ms));
  }
  return largest;
}

export interface Violation {
  readonly kind: string;
  readonly job: string;
  readonly slot: number | null;
  readonly detail: string;
}

export interface JobTally {
  job: string;
  slots: number;
  runs: number;
  ok: number;
  failed: number;
  timedOut: number;
  skipped: number;
  missed: number;
  dstGap: number;
  running: number;
  /** Lateness episodes raised (`job.late` firing alerts); filled in by the lateness oracle. */
  lateEpisodes: number;
}

export interface OracleInput {
  readonly definitions: readonly JobDefinition[];
  readonly rows: readonly CronRunRow[];
  readonly segments: readonly BodySegment[];
  readonly silences: readonly Silence[];
  /** Slots in (start, checkUntil] must be recorded; later ones may still be pending. */
  readonly start: number;
  readonly checkUntil: number;
  readonly end: number;
  readonly leaseTtlMs: number;
  /** Slack for a takeover: the lease TTL plus one heartbeat and one scheduler tick. */
  readonly takeoverSlackMs: number;
  /**
   * Clock skew injected on one machine (default none). Leases are judged on the database's clock, so skew
   * excuses no overlap; it only shifts the timestamps the instances write into the ledger (`started_at`).
   */
  readonly skews?: readonly SkewWindow[];
}

export interface OracleResult {
  readonly tallies: JobTally[];
  readonly violations: Violation[];
  /** Runs marked abandoned by a later holder (lease take-overs after a crash or pause). */
  readonly takeovers: number;
  /** Slots skipped because a silent (crashed or paused) holder's lease still looked live. */
  readonly skippedForSilentHolder: number;
}

const ABANDONED = 'abandoned (lease expired)';

/** Checks the ledger and the recorded body executions against the schedules and the fault windows. */
export function checkOracle(input: OracleInput): OracleResult {
  const violations: Violation[] = [];
  const tallies: JobTally[] = [];
  let skippedForSilentHolder = 0;
  const skews = input.skews ?? [];
  for (const definition of input.definitions) {
    const job = definition.name;
    const rows = input.rows.filter((row) => row.job === job);
    const tally: JobTally = { job, slots: 0, runs: 0, ok: 0, failed: 0, timedOut: 0, skipped: 0, missed: 0, dstGap: 0, running: 0, lateEpisodes: 0 };
    tallies.push(tally);
    for (const row of rows) {
      if (row.status === 'ok') tally.ok += 1;
      else if (row.status === 'failed') tally.failed += 1;
      else if (row.status === 'timed_out') tally.timedOut += 1;
      else if (row.status === 'skipped') tally.skipped += 1;
      else if (row.status === 'missed') (row.output === 'dst-gap' ? (tally.dstGap += 1) : (tally.missed += 1));
      else if (row.status === 'running') tally.running += 1;
      if (row.status !== 'skipped' && row.status !== 'missed') tally.runs += 1;
    }
    if (!definition.enabled) {
      for (const row of rows) violations.push({ kind: 'disabled job recorded', job, slot: row.scheduled_for, detail: `row ${row.id} ${row.status}` });
      continue;
    }
    const bySlot = new Map<number, CronRunRow[]>();
    for (const row of rows) {
      if (row.scheduled_for === null) continue;
      const list = bySlot.get(row.scheduled_for) ?? [];
      list.push(row);
      bySlot.set(row.scheduled_for, list);
    }
    const expected = expectedSlots(definition, input.start, input.end);
    const expectedSet = new Set(expected.map((e) => e.slot));
    for (const [slot, list] of bySlot) {
      if (list.length > 1) violations.push({ kind: 'slot recorded twice', job, slot, detail: list.map((r) => `#${r.id} ${r.status} by ${r.instance_id}`).join(', ') });
      if (slot > input.start && !expectedSet.has(slot)) violations.push({ kind: 'slot not in the schedule', job, slot, detail: `row #${list[0]!.id} ${list[0]!.status}` });
    }
    for (const { slot, kind } of expected) {
      if (slot > input.checkUntil) continue;
      tally.slots += 1;
      const list = bySlot.get(slot) ?? [];
      if (list.length === 0) {
        violations.push({ kind: 'slot neither run nor missed', job, slot, detail: 'no ledger row' });
        continue;
      }
      const row = list[0]!;
      if (kind === 'gap' && !(row.status === 'missed' && row.output === 'dst-gap')) {
        violations.push({ kind: 'DST gap slot not missed (skip policy)', job, slot, detail: `row #${row.id} ${row.status} ${row.output ?? ''}` });
      }
      if (kind === 'run' && row.status === 'missed' && row.output === 'dst-gap') violations.push({ kind: 'dst-gap on a slot the policy runs', job, slot, detail: `row #${row.id}` });
    }
    // A dead run must not stay `running` once a later run held the lease (it sweeps them).
    for (const row of rows) {
      if (row.status !== 'running') continue;
      const later = rows.find((other) => other.started_at > row.started_at + input.leaseTtlMs && ['ok', 'failed', 'timed_out'].includes(other.status) && other.error !== ABANDONED);
      if (later !== undefined) violations.push({ kind: 'dead run left running', job, slot: row.scheduled_for, detail: `row #${row.id} by ${row.instance_id}; later run #${later.id} held the lease` });
    }
    // A run is only abandoned when its instance lost the lease: it crashed or paused. A live run marked abandoned
    // is a run whose finish never reached the ledger. One exception: the sweep of stale `running` rows compares
    // `started_at` (written on the writer's own clock) with the sweeper's clock minus the TTL, so a machine
    // skewed by a TTL or more may see a live run that is still getting its lease as stale (a ledger timestamp;
    // the lease, on the database's clock, still keeps the two bodies apart: check 5).
    const slack = Math.max(1000, ...skews.map((w) => Math.abs(w.ms)));
    for (const row of rows) {
      if (row.error !== ABANDONED) continue;
      const from = row.started_at - slack;
      const until = (row.finished_at ?? input.end) + slack;
      const silent = input.silences.some((s) => s.instance === row.instance_id && s.from <= until && s.to >= from);
      const skewed = skews.some((w) => Math.abs(w.ms) >= input.leaseTtlMs && w.from <= until && w.to >= from);
      if (!silent && !skewed) violations.push({ kind: 'live run marked abandoned', job, slot: row.scheduled_for, detail: `row #${row.id} by ${row.instance_id}, started ${iso(row.started_at)}, abandoned ${row.finished_at === null ? '?' : iso(Number(row.finished_at))}` });
    }
    // A crashed or paused holder's lease must not keep others out after its TTL (plus slack).
    for (const row of rows) {
      if (row.status !== 'skipped' || row.output === null) continue;
      const holder = /^lease held by (.+)$/.exec(row.output)?.[1];
      if (holder === undefined) continue;
      const silence = input.silences.find((s) => s.instance === holder && s.from <= row.started_at && row.started_at <= s.to);
      if (silence === undefined) continue;
      skippedForSilentHolder += 1;
      // The lease is on the database's clock, but the reader wrote `started_at` on its own: allow for its skew.
      const skewed = skewOf(skews, row.instance_id, silence.from, row.started_at);
      if (row.started_at > silence.from + input.takeoverSlackMs + skewed) {
        violations.push({ kind: 'silent holder kept its lease past TTL', job, slot: row.scheduled_for, detail: `row #${row.id} at ${iso(row.started_at)}; ${holder} ${silence.kind} since ${iso(silence.from)}` });
      }
    }
    // Never two runs of one slot, whatever the clocks say: a slot's body executes on one incarnation only.
    const runners = new Map<number, string>();
    for (const segment of input.segments) {
      if (segment.job !== job || segment.slot === null) continue;
      const first = runners.get(segment.slot);
      if (first === undefined) runners.set(segment.slot, segment.instance);
      else if (first !== segment.instance) {
        violations.push({ kind: 'slot executed twice', job, slot: segment.slot, detail: `by ${first} and by ${segment.instance} (from ${iso(segment.from)})` });
      }
    }
    // Under skip and queue-one, no two bodies of one job ever execute at the same time, whatever the clocks say.
    const segments = input.segments.filter((s) => s.job === job && (s.to ?? input.end) > s.from).sort((a, b) => a.from - b.from);
    for (let i = 1; i < segments.length; i += 1) {
      const current = segments[i]!;
      for (let j = i - 1; j >= Math.max(0, i - 8); j -= 1) {
        const earlier = segments[j]!;
        const earlierTo = earlier.to ?? input.end;
        if (earlierTo <= current.from) continue;
        const skewed = skewOf(skews, current.instance, current.from, current.from) + skewOf(skews, earlier.instance, earlier.from, current.from);
        violations.push({
          kind: 'overlapping runs',
          job,
          slot: current.slot,
          detail: `${earlier.instance} (slot ${slotText(earlier.slot)}) ${iso(earlier.from)}–${iso(earlierTo)} and ${current.instance} (slot ${slotText(current.slot)}) from ${iso(current.from)}${skewed > 0 ? ` (a clock skewed by ${skewed} ms)` : ''}`,
        });
      }
    }
  }
  const takeovers = input.rows.filter((row) => row.error === ABANDONED).length;
  violations.sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0));
  return { tallies, violations, takeovers, skippedForSilentHolder };
}

function slotText(slot: number | null): string {
  return slot === null ? 'ad hoc' : iso(slot);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
