import type { CronRunRow } from '../src/db/repositories/cron-runs.js';
import type { JobDefinition } from '../src/jobs/types.js';
import type { AlertRecorder } from './alerts.js';
import { expectedSlots, iso, type Violation } from './oracle.js';

const MIN = 60_000;
const HOUR = 3_600_000;

/**
 * The documented lateness threshold, from the schedule alone: max(10 min,
 * period + min(period, 1 h)), the period being the gap between two slots in a
 * week without DST changes (every minute → 10 min, hourly → 2 h, daily → 25 h).
 */
export function expectedLateAfter(definition: JobDefinition): number {
  const [first, second] = expectedSlots(definition, Date.UTC(2026, 0, 5), Date.UTC(2026, 0, 12));
  if (first === undefined || second === undefined) throw new Error(`oracle: no two slots for ${definition.name}`);
  const period = second.slot - first.slot;
  return Math.max(10 * MIN, period + Math.min(period, HOUR));
}

export interface LatenessInput {
  readonly definitions: readonly JobDefinition[];
  /** The registry's threshold per job (JOB_<NAME>_LATE_AFTER or the default). */
  readonly lateAfter: ReadonlyMap<string, number>;
  readonly rows: readonly CronRunRow[];
  readonly recorder: AlertRecorder;
}

export interface LatenessResult {
  readonly violations: Violation[];
  /** `job.late` firing events per job (episodes raised). */
  readonly episodes: ReadonlyMap<string, number>;
  /** Alerts of every kind sent (firing and resolved). */
  readonly alerts: number;
  /** Checks × jobs the oracle could judge (the job had succeeded at least once). */
  readonly judged: number;
}

/**
 * Lateness, judged at every check the real alert monitor made:
 * 1. the threshold is the documented default for the job's schedule;
 * 2. `status().late` says what the oracle says: late when the checking
 *    instance's clock is past (the slot of the last successful run committed
 *    before the check) + threshold;
 * 3. right after each check, a `job.late` episode is open exactly when that
 *    check found the job late (it was raised, or cleared, by someone);
 * 4. per job and kind, events alternate firing, resolved, firing…: every
 *    episode raised once and cleared once, however many instances noticed.
 */
export function checkLateness(input: LatenessInput): LatenessResult {
  const violations: Violation[] = [];
  const episodes = new Map<string, number>();
  const { recorder } = input;
  let judged = 0;
  for (const alert of recorder.alerts) if (alert.event.type === 'job.late' && alert.event.state === 'firing') episodes.set(alert.event.job, (episodes.get(alert.event.job) ?? 0) + 1);

  // 4. Alternation, every kind.
  const open = new Map<string, boolean>();
  for (const { event, world } of recorder.alerts) {
    const key = `${event.job}:${event.type}`;
    const firing = event.state === 'firing';
    if ((open.get(key) ?? false) === firing) {
      violations.push({ kind: firing ? `${event.type} raised twice without being cleared` : `${event.type} cleared without being raised`, job: event.job, slot: null, detail: `by ${event.instance} at ${iso(world)}` });
    }
    open.set(key, firing);
  }

  const checks = [...recorder.checks].sort((a, b) => a.seq - b.seq);
  const alerts = recorder.alerts.filter((a) => a.event.type === 'job.late');
  for (const definition of input.definitions) {
    if (!definition.enabled) continue;
    const job = definition.name;
    const threshold = expectedLateAfter(definition);
    const configured = input.lateAfter.get(job);
    if (configured !== threshold) violations.push({ kind: 'late_after is not the documented default', job, slot: null, detail: `registry ${configured} ms, expected ${threshold} ms` });
    // Successful runs in the order they were committed; status() takes the one inserted last (highest id).
    const successes = input.rows
      .filter((row) => row.job === job && row.status === 'ok' && row.dry_run === 0 && recorder.okAt.has(row.id))
      .map((row) => ({ ...recorder.okAt.get(row.id)!, id: row.id, slot: row.scheduled_for ?? row.started_at }))
      .sort((a, b) => a.seq - b.seq);
    const jobAlerts = alerts.filter((a) => a.event.job === job);
    const firstRow = input.rows.filter((row) => row.job === job).reduce<CronRunRow | undefined>((first, row) => (first === undefined || row.id < first.id ? row : first), undefined);
    let next = 0;
    let nextAlert = 0;
    let last: { id: number; slot: number } | undefined;
    let episodeOpen = false;
    for (let k = 0; k < checks.length; k += 1) {
      const check = checks[k]!;
      while (next < successes.length && successes[next]!.seq < check.seq) {
        const success = successes[next]!;
        if (last === undefined || success.id > last.id) last = success;
        next += 1;
      }
      // The check's own transitions come before the next check (each check is one virtual instant).
      const until = checks[k + 1]?.seq ?? Number.POSITIVE_INFINITY;
      while (nextAlert < jobAlerts.length && jobAlerts[nextAlert]!.seq < until) {
        episodeOpen = jobAlerts[nextAlert]!.event.state === 'firing';
        nextAlert += 1;
      }
      const reported = check.late.get(job);
      if (reported === undefined) continue;
      // Never succeeded yet: status() counts from when the job was first recorded or this incarnation started.
      const anchor = Math.min(check.createdAt, firstRow !== undefined && firstRow.started_at < check.now ? firstRow.started_at : Number.POSITIVE_INFINITY);
      const from = last?.slot ?? anchor;
      // A success committed later in the same world event (an instance resuming delivers its run's end and its
      // check together) may or may not have been read: either verdict is right then.
      let also = last;
      for (let i = next; i < successes.length && successes[i]!.event === check.event; i += 1) if (also === undefined || successes[i]!.id > also.id) also = successes[i];
      judged += 1;
      const expected = check.now > from + threshold;
      const alsoExpected = check.now > (also?.slot ?? anchor) + threshold;
      if (reported !== expected && reported !== alsoExpected) {
        violations.push({
          kind: 'status().late disagrees with the oracle',
          job,
          slot: last?.slot ?? null,
          detail: `${check.instance} at ${iso(check.world)} (its clock ${iso(check.now)}) said ${reported ? 'late' : 'on time'}; ${last === undefined ? 'never succeeded, counting from' : 'last success slot'} ${iso(from)} + ${threshold / MIN} min`,
        });
      }
      if (episodeOpen !== reported) {
        violations.push({
          kind: reported ? 'late episode not raised' : 'late episode not cleared',
          job,
          slot: last?.slot ?? null,
          detail: `after ${check.instance}'s check at ${iso(check.world)}`,
        });
      }
    }
  }
  return { violations, episodes, alerts: recorder.alerts.length, judged };
}
