import { builtInJobs } from '../src/jobs/builtin-jobs.js';
import { defineJob } from '../src/jobs/define.js';
import type { CronRunsRepository } from '../src/db/repositories/cron-runs.js';
import type { Timers } from '../src/jobs/timers.js';
import type { JobBody, JobDefinition } from '../src/jobs/types.js';
import { hashUnit, type Owner, type World } from './world.js';

/** When a job body really executed on one incarnation, in world time (pauses cut it into segments). */
export interface BodySegment {
  readonly job: string;
  readonly instance: string;
  readonly from: number;
  to: number | undefined;
  readonly slot: number | null;
}

/** Records body execution, independently of the ledger, for the overlap check. */
export class BodyRecorder {
  readonly segments: BodySegment[] = [];
  private readonly open = new Map<Owner, Set<{ job: string; slot: number | null; segment: BodySegment | undefined }>>();
  constructor(private readonly world: World) {}

  begin(owner: Owner, job: string, slot: number | null): () => void {
    const entry = { job, slot, segment: this.segment(owner, job, slot) as BodySegment | undefined };
    let set = this.open.get(owner);
    if (set === undefined) this.open.set(owner, (set = new Set()));
    set.add(entry);
    return () => {
      if (entry.segment !== undefined) entry.segment.to = this.world.now;
      set.delete(entry);
    };
  }

  /** The owner paused or crashed: its bodies stop executing now. */
  stop(owner: Owner, crashed: boolean): void {
    for (const entry of this.open.get(owner) ?? []) {
      if (entry.segment !== undefined) entry.segment.to = this.world.now;
      entry.segment = undefined;
    }
    if (crashed) this.open.delete(owner);
  }

  /** The owner resumed: its bodies execute again. */
  resume(owner: Owner): void {
    for (const entry of this.open.get(owner) ?? []) entry.segment = this.segment(owner, entry.job, entry.slot);
  }

  private segment(owner: Owner, job: string, slot: number | null): BodySegment {
    const segment: BodySegment = { job, instance: owner.name, from: this.world.now, to: undefined, slot };
    this.segments.push(segment);
    return segment;
  }
}

/** What one run of a simulated body does, drawn from (seed, job, slot or run id). */
type Behaviour = { kind: 'ok' | 'fail'; ms: number } | { kind: 'hang' };

interface SimJobSpec {
  readonly name: string;
  readonly schedule: string;
  readonly timezone?: string;
  readonly dst?: 'skip' | 'run-once' | 'run-each';
  readonly overlap?: 'skip' | 'queue-one';
  readonly catchUp?: JobDefinition['catchUp'];
  readonly timeoutMs?: number;
  readonly retries?: { max: number; baseDelayMs: number };
  /** Chooses this run's behaviour from a uniform number in [0, 1). */
  readonly behaviour: (u: number, v: number) => Behaviour;
}

const MIN = 60_000;

/** The simulator's own jobs: two DST zones (fixed-time and interval), slow, flaky and hanging bodies. */
export const SIM_JOBS: readonly SimJobSpec[] = [
  { name: 'berlin-0230', schedule: '30 2 * * *', timezone: 'Europe/Berlin', dst: 'run-each', behaviour: (u, v) => ({ kind: u < 0.1 ? 'fail' : 'ok', ms: v * 5 * MIN }) },
  { name: 'berlin-0230-once', schedule: '30 2 * * *', timezone: 'Europe/Berlin', dst: 'run-once', catchUp: { kind: 'all', windowMs: 6 * 3_600_000 }, behaviour: (_u, v) => ({ kind: 'ok', ms: v * MIN }) },
  { name: 'berlin-hourly', schedule: '0 * * * *', timezone: 'Europe/Berlin', behaviour: (u, v) => ({ kind: u < 0.05 ? 'fail' : 'ok', ms: v * 2 * MIN }) },
  { name: 'ny-0230', schedule: '30 2 * * *', timezone: 'America/New_York', dst: 'skip', behaviour: (_u, v) => ({ kind: 'ok', ms: v * MIN }) },
  { name: 'ny-0130', schedule: '30 1 * * *', timezone: 'America/New_York', dst: 'run-each', catchUp: { kind: 'none' }, behaviour: (_u, v) => ({ kind: 'ok', ms: v * MIN }) },
  { name: 'ny-hourly', schedule: '0 * * * *', timezone: 'America/New_York', catchUp: { kind: 'all', windowMs: 6 * 3_600_000 }, behaviour: (_u, v) => ({ kind: 'ok', ms: v * 30_000 }) },
  // Longer than its period one run in five: the next slots are skipped, never overlapped.
  { name: 'slow-5m', schedule: '*/5 * * * *', behaviour: (u, v) => ({ kind: 'ok', ms: u < 0.2 ? (6 + v * 8) * MIN : v * 4 * MIN }) },
  { name: 'queue-10m', schedule: '*/10 * * * *', overlap: 'queue-one', behaviour: (u, v) => ({ kind: 'ok', ms: u < 0.2 ? (10 + v * 15) * MIN : v * 3 * MIN }) },
  // Fails (retried twice) or hangs past its 2-minute timeout now and then.
  {
    name: 'flaky-15m',
    schedule: '*/15 * * * *',
    timeoutMs: 2 * MIN,
    retries: { max: 2, baseDelayMs: 10_000 },
    behaviour: (u, v) => (u < 0.1 ? { kind: 'hang' } : { kind: u < 0.35 ? 'fail' : 'ok', ms: v * MIN }),
  },
];

/** Sleeps `ms` on `timers`, rejecting when `signal` aborts (a well-behaved body stops at abort). */
function work(timers: Timers, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const cancel = Number.isFinite(ms) ? timers.after(ms, () => (signal.removeEventListener('abort', onAbort), resolve())) : () => undefined;
    const onAbort = () => {
      cancel();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wraps a body so its execution is recorded (begin..settle) for the owner. */
function recorded(recorder: BodyRecorder, owner: Owner, job: string, body: JobBody): JobBody {
  return async (context) => {
    const end = recorder.begin(owner, job, context.scheduledFor);
    try {
      return await body(context);
    } finally {
      end();
    }
  };
}

/**
 * Every job one incarnation registers: the built-in jobs (real bodies; the
 * ledger retention is set beyond the simulated period) plus SIM_JOBS, all
 * recorded. Bodies sleep on the incarnation's virtual timers.
 */
export function simDefinitions(options: { seed: number; owner: Owner; timers: Timers; recorder: BodyRecorder; ledger: CronRunsRepository }): JobDefinition[] {
  const { seed, owner, timers, recorder } = options;
  const builtIns = builtInJobs({ ledger: options.ledger, retentionMs: 3650 * 86_400_000 }).map((definition) => ({
    ...definition,
    run: recorded(recorder, owner, definition.name, definition.run),
  }));
  const attempts = new Map<string, number>();
  const own = SIM_JOBS.map((spec) => {
    const body: JobBody = async ({ signal, scheduledFor, runId }) => {
      const key = `${spec.name}:${scheduledFor ?? `adhoc-${runId}`}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const behaviour = spec.behaviour(hashUnit(seed, `${key}:${attempt}:u`), hashUnit(seed, `${key}:${attempt}:v`));
      await work(timers, behaviour.kind === 'hang' ? Number.POSITIVE_INFINITY : behaviour.ms, signal);
      if (behaviour.kind === 'fail') throw new Error(`simulated failure (${key}, attempt ${attempt})`);
      return { done: 1 };
    };
    return defineJob({
      name: spec.name,
      description: `simulated job ${spec.name}`,
      schedule: spec.schedule,
      ...(spec.timezone === undefined ? {} : { timezone: spec.timezone }),
      ...(spec.dst === undefined ? {} : { dst: spec.dst }),
      ...(spec.overlap === undefined ? {} : { overlap: spec.overlap }),
      ...(spec.catchUp === undefined ? {} : { catchUp: spec.catchUp }),
      ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
      ...(spec.retries === undefined ? {} : { retries: spec.retries }),
      run: recorded(recorder, owner, spec.name, body),
    });
  });
  return [...builtIns, ...own];
}
