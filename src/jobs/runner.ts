import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.js';
import type { NewCronRun } from '../db/repositories/cron-runs.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { errorDetail, errorMessage } from './error-detail.js';
import { acquireLease, DEFAULT_LEASE_TIMING, type HeldLease, type LeaseStore, type LeaseTiming } from './lease.js';
import { SCHEDULE_RUN_JOB } from './registry.js';
import {
  cleanCounts,
  describeCounts,
  shortText,
  TimeoutError,
  unrecordedSummary,
  type MissedSlot,
  type Outcome,
  type RunLedger,
  type RunRequest,
  type ScheduleRunRequest,
} from './run-request.js';
import { delay, systemTimers, type Timers } from './timers.js';
import type { JobDefinition, RunFinishedEvent, RunStatus, RunSummary, ScheduleRunResult } from './types.js';

export { shortText, type MissedSlot, type RunLedger, type RunRequest, type ScheduleRunRequest } from './run-request.js';

export const ABANDONED_ERROR = 'abandoned (lease expired)';
const MAX_ERROR = 500;
const MAX_OUTPUT = 300;
const PROGRESS_WRITE_MS = 1000;

/** Seed 002's lock time, kept as the longest a schedule run may take (CRON_RUN_MAX_TIME, default 600 000 ms). */
export const DEFAULT_SCHEDULE_RUN_MAX_MS = 600_000;

export interface RunnerOptions {
  readonly ledger: RunLedger;
  readonly leases: LeaseStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** This process's name in leases and the ledger. */
  readonly instanceId: string;
  readonly emit: (event: RunFinishedEvent) => void;
  /** How long stop() lets running jobs finish before aborting them (default 10 s). */
  readonly drainMs?: number;
  /** Lease TTL and heartbeat for jobs without their own TTL and for the schedule run (default DEFAULT_LEASE_TIMING: 20 s / 5 s, the configuration's defaults). */
  readonly lease?: LeaseTiming;
  /** Longest a schedule run may take; its job runs are aborted then (default 600 000 ms, seed 002). */
  readonly scheduleRunMaxMs?: number;
  /** Heartbeats, timeouts, back-off and lease waits run on these (default real timers). */
  readonly timers?: Timers;
}

export type ScheduleRunOutcome = { readonly busy: true } | { readonly busy: false; readonly result: ScheduleRunResult };

/**
 * The one path every trigger ends in, and the only writer of the run ledger:
 * - `run()`: record the slot → lease → run (timeout, retries, progress) →
 *   finish the row → release → notify listeners;
 * - `recordMissed()`: the `missed` rows of slots a policy gives up;
 * - `runSchedule()`: the `schedule-run` row and lease around one `/cron/run`.
 * The scheduler decides (pure slot maths) and calls these; a simulator drives
 * them the same way with its own clock and timers.
 */
export class JobRunner {
  /** Jobs running in this process; a second local run of one is an overlap. */
  private readonly active = new Map<string, Promise<unknown>>();
  private readonly shutdown = new AbortController();
  private stopping = false;
  private readonly timers: Timers;
  private readonly lease: LeaseTiming;

  constructor(private readonly options: RunnerOptions) {
    this.timers = options.timers ?? systemTimers;
    this.lease = options.lease ?? DEFAULT_LEASE_TIMING;
  }

  /** True while `job` runs in this process. */
  isRunning(job: string): boolean {
    return this.active.has(job);
  }

  /**
   * Runs `definition` for `request`. Resolves undefined when the slot was
   * already recorded by someone else (it is theirs), else the run's summary;
   * `skipped` when the job is running here or its lease is held elsewhere.
   * Never throws for job failures; they are recorded.
   */
  async run(definition: JobDefinition, request: RunRequest): Promise<RunSummary | undefined> {
    if (this.stopping) return unrecordedSummary(definition.name, request, 'shutting down');
    if (this.active.has(definition.name)) {
      return this.overlap(definition, request, `already running on this instance (${this.options.instanceId})`);
    }
    // Registered synchronously, before any await, so a concurrent local call sees the overlap.
    return this.exclusively(definition.name, () => this.runExclusive(definition, request));
  }

  /**
   * Records `slots` of `definition` as `missed` (idempotent per slot), with
   * each slot's reason in the row's output, and returns their summaries.
   */
  async recordMissed(definition: JobDefinition, slots: readonly MissedSlot[], now: number): Promise<RunSummary[]> {
    const job = definition.name;
    for (const reason of new Set(slots.map((missed) => missed.reason))) {
      const group = slots.filter((missed) => missed.reason === reason).map((missed) => missed.slot);
      await this.options.ledger.insertMissed(job, group, now, this.options.instanceId, 'catch-up', reason);
      this.options.logger.warn({ job, missed: group.length, reason }, reason === 'dst-gap' ? 'slot in a DST gap recorded as missed (JOB_*_DST=skip)' : 'slots missed while nothing fired');
    }
    return slots.map(({ slot, reason }) => ({ id: null, job, scheduledFor: slot, trigger: 'catch-up', status: 'missed', durationMs: 0, counts: {}, reason }));
  }

  /**
   * One schedule run (`/cron/run`): holds the `schedule-run` lease (short,
   * renewed), writes its ledger row, calls `runDue(signal)` — which runs each
   * due job through `run()` with that signal — and finishes the row with the
   * tally. Resolves `{ busy: true }` while another live schedule run holds the
   * lease; a holder that stopped renewing is waited out and taken over. The
   * signal aborts at the maximum run time; the row is then `timed_out`.
   * When `runDue` throws, finishes the row as `failed` and throws AppError
   * INTERNAL_ERROR with the original as `cause`; a failing lease or ledger
   * write (database down) propagates as it is.
   */
  async runSchedule(request: ScheduleRunRequest, runDue: (signal: AbortSignal) => Promise<RunSummary[]>): Promise<ScheduleRunOutcome> {
    // The lease alone would let this instance in twice (it re-acquires its own lease).
    if (this.active.has(SCHEDULE_RUN_JOB)) return { busy: true };
    return this.exclusively(SCHEDULE_RUN_JOB, () => this.scheduleExclusive(request, runDue));
  }

  /** Stops taking runs; waits for running ones, aborting them after the drain time. */
  async stop(): Promise<void> {
    this.stopping = true;
    const cancel = this.timers.after(this.options.drainMs ?? 10_000, () => this.shutdown.abort(new Error('shutting down')));
    await Promise.allSettled([...this.active.values()]);
    cancel();
  }

  private async exclusively<T>(name: string, work: () => Promise<T>): Promise<T> {
    const running = work();
    this.active.set(name, running);
    try {
      return await running;
    } finally {
      this.active.delete(name);
    }
  }

  private leaseOptions(job: string, ttlMs = this.lease.ttlMs) {
    const { leases, instanceId } = this.options;
    return { store: leases, job, holder: instanceId, timers: this.timers, ttlMs, heartbeatMs: this.lease.heartbeatMs };
  }

  private async runExclusive(definition: JobDefinition, request: RunRequest): Promise<RunSummary | undefined> {
    const { ledger, leases, clock, instanceId } = this.options;
    const job = definition.name;
    if (definition.overlap === 'queue-one' && request.slot !== null) {
      // Leave the slot unrecorded so it stays due and runs once the lease frees.
      const current = await leases.current(job);
      if (current !== undefined && current.holder !== instanceId) {
        return unrecordedSummary(job, request, `queued: running on ${current.holder}`);
      }
    }
    const startedAt = clock.now();
    const row = this.row(job, request, 'running', startedAt);
    const id = request.slot === null ? await ledger.insert(row) : await ledger.insertSlot({ ...row, scheduledFor: request.slot });
    if (id === undefined) return undefined;

    const ttlMs = definition.leaseTtlMs ?? this.lease.ttlMs;
    const attempt = await acquireLease(this.leaseOptions(job, ttlMs));
    if (!attempt.acquired) {
      const reason = `lease held by ${attempt.holder ?? 'another instance'}`;
      return this.finish(definition, request, id, startedAt, { status: 'skipped', counts: {}, reason });
    }
    const lease = attempt.lease;
    try {
      await this.sweepAbandoned(job, id, attempt.previousHolder, ttlMs);
      const outcome = await this.execute(definition, request, id, lease);
      return await this.finish(definition, request, id, startedAt, outcome);
    } finally {
      await lease.release().catch((error: unknown) => this.options.logger.warn({ err: error, job }, 'lease release failed'));
    }
  }

  private async scheduleExclusive(request: ScheduleRunRequest, runDue: (signal: AbortSignal) => Promise<RunSummary[]>): Promise<ScheduleRunOutcome> {
    const { ledger, clock, logger } = this.options;
    const attempt = await acquireLease(this.leaseOptions(SCHEDULE_RUN_JOB));
    if (!attempt.acquired) return { busy: true };
    const lease = attempt.lease;
    lease.keepAlive(() => logger.warn('schedule-run lease lost while running due jobs'));
    const maxMs = this.options.scheduleRunMaxMs ?? DEFAULT_SCHEDULE_RUN_MAX_MS;
    const deadline = new AbortController();
    const cancelDeadline = this.timers.after(maxMs, () => deadline.abort(new TimeoutError(`the schedule run exceeded its maximum time of ${maxMs} ms`)));
    try {
      const startedAt = clock.now();
      const id = await ledger.insert(this.row(SCHEDULE_RUN_JOB, { slot: null, dryRun: false, ...request }, 'running', startedAt));
      await this.sweepAbandoned(SCHEDULE_RUN_JOB, id, attempt.previousHolder, this.lease.ttlMs);
      let runs: RunSummary[] = [];
      let failure: unknown;
      try {
        runs = await runDue(deadline.signal);
      } catch (error) {
        failure = error;
        logger.error({ ...(error instanceof Error ? { err: error } : {}), errorDetail: errorDetail(error) }, 'schedule-run failed');
      }
      const finishedAt = clock.now();
      const tally: Record<string, number> = { ran: 0, ok: 0, failed: 0, timed_out: 0, skipped: 0, missed: 0 };
      for (const run of runs) {
        tally[run.status] = (tally[run.status] ?? 0) + 1;
        if (run.status !== 'missed' && run.status !== 'skipped') tally.ran = (tally.ran ?? 0) + 1;
      }
      const timedOut = failure === undefined && deadline.signal.aborted;
      const error = failure ?? (timedOut ? deadline.signal.reason : undefined);
      await ledger.finish(id, {
        status: failure !== undefined ? 'failed' : timedOut ? 'timed_out' : 'ok',
        finishedAt,
        durationMs: finishedAt - startedAt,
        counts: JSON.stringify(tally),
        output: `ran ${tally.ran}, skipped ${tally.skipped}, missed ${tally.missed}`,
        error: error === undefined ? null : shortText(errorMessage(error), MAX_ERROR),
        errorDetail: failure === undefined ? null : errorDetail(failure),
      });
      // Logged whole and recorded on the row above; callers get the stable code, the cause stays attached.
      if (failure !== undefined) throw new AppError('INTERNAL_ERROR', 'The schedule run failed; see the run ledger.', { cause: failure });
      return { busy: false, result: { cronRunId: id, durationMs: finishedAt - startedAt, runs } };
    } finally {
      cancelDeadline();
      await lease.release().catch((cause: unknown) => logger.warn({ err: cause }, 'schedule-run lease release failed'));
    }
  }

  /**
   * Runs of `job` still `running` that are not ours are dead: those of the
   * holder whose lease expired, and any older than the lease TTL (their
   * instance died before it held the lease; a live run always holds it).
   */
  private async sweepAbandoned(job: string, ownId: number, previousHolder: string | undefined, ttlMs: number): Promise<void> {
    const now = this.options.clock.now();
    const count = await this.options.ledger.abandonRunning(job, previousHolder, ownId, now, now - ttlMs, ABANDONED_ERROR);
    if (count > 0) this.options.logger.warn({ job, previousHolder, count }, 'marked runs of an expired lease holder as abandoned');
  }

  private async execute(definition: JobDefinition, request: RunRequest, id: number, lease: HeldLease): Promise<Outcome> {
    const lost = new AbortController();
    lease.keepAlive((error) => lost.abort(error));
    let last: Outcome = { status: 'failed', counts: {} };
    for (let attempt = 0; ; attempt += 1) {
      last = await this.attempt(definition, request, id, lost.signal);
      const stopped = lost.signal.aborted || this.shutdown.signal.aborted || request.signal?.aborted === true;
      if (last.status !== 'failed' || stopped || attempt >= definition.retries.max) return attempt > 0 ? { ...last, attempts: attempt + 1 } : last;
      const delayMs = definition.retries.baseDelayMs * 2 ** attempt;
      this.options.logger.warn({ job: definition.name, attempt: attempt + 1, delayMs, errorDetail: errorDetail(last.error) }, 'job failed; retrying');
      await delay(this.timers, delayMs, this.shutdown.signal);
    }
  }

  private async attempt(definition: JobDefinition, request: RunRequest, id: number, leaseLost: AbortSignal): Promise<Outcome> {
    const controller = new AbortController();
    // Kept alive: a run in flight (e.g. `curfew jobs run`) must keep the process alive until it ends.
    const cancelTimeout = this.timers.after(definition.timeoutMs, () => controller.abort(new TimeoutError(`timed out after ${definition.timeoutMs} ms`)), true);
    const sources = [leaseLost, this.shutdown.signal, ...(request.signal === undefined ? [] : [request.signal])];
    const forwards = sources.map((signal) => {
      const forward = () => controller.abort(signal.reason);
      if (signal.aborted) forward();
      else signal.addEventListener('abort', forward, { once: true });
      return () => signal.removeEventListener('abort', forward);
    });
    let progress: Record<string, number> = {};
    let lastWrite = performance.now();
    try {
      if (controller.signal.aborted) throw controller.signal.reason;
      const body = definition.run({
        dryRun: request.dryRun,
        signal: controller.signal,
        clock: this.options.clock,
        scheduledFor: request.slot,
        runId: id,
        params: request.params ?? {},
        progress: (update) => {
          progress = { done: update.done, ...(update.total === undefined ? {} : { total: update.total }) };
          request.onProgress?.(update);
          if (performance.now() - lastWrite >= PROGRESS_WRITE_MS) {
            lastWrite = performance.now();
            this.options.ledger.updateCounts(id, JSON.stringify(progress)).catch(() => undefined);
          }
        },
      });
      body.catch(() => undefined);
      const aborted = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      });
      const counts = await Promise.race([body, aborted]);
      return { status: 'ok', counts: cleanCounts(counts) };
    } catch (error) {
      const status: RunStatus = error instanceof TimeoutError ? 'timed_out' : 'failed';
      return { status, counts: progress, error };
    } finally {
      cancelTimeout();
      for (const remove of forwards) remove();
    }
  }

  private async finish(definition: JobDefinition, request: RunRequest, id: number, startedAt: number, outcome: Outcome): Promise<RunSummary> {
    const finishedAt = this.options.clock.now();
    const durationMs = Math.max(0, finishedAt - startedAt);
    const failed = outcome.error !== undefined;
    const error = failed ? shortText(errorMessage(outcome.error), MAX_ERROR) : null;
    const output = outcome.reason ?? (outcome.status === 'ok' ? describeCounts(outcome.counts, definition.placeholder) : null);
    const kept = await this.options.ledger.finish(id, {
      status: outcome.status,
      finishedAt,
      durationMs,
      counts: JSON.stringify(outcome.attempts === undefined ? outcome.counts : { ...outcome.counts, attempts: outcome.attempts }),
      output: output === null ? null : shortText(output, MAX_OUTPUT),
      error,
      // A timeout's stack is the runner's own; the body's failure is the one worth keeping whole.
      errorDetail: failed && outcome.status === 'failed' ? errorDetail(outcome.error) : null,
    });
    // Another instance took the lease over and marked this run abandoned; its record stands.
    const status: RunStatus = kept ? outcome.status : 'failed';
    const summary: RunSummary = {
      id,
      job: definition.name,
      scheduledFor: request.slot,
      trigger: request.trigger,
      status,
      durationMs,
      counts: outcome.counts,
      dryRun: request.dryRun,
      ...(kept ? (error === null ? {} : { error }) : { error: ABANDONED_ERROR }),
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    };
    const level = status === 'ok' || status === 'skipped' ? 'info' : 'warn';
    const fields = { job: definition.name, runId: id, slot: request.slot, trigger: request.trigger, status, durationMs, error: summary.error };
    // The logger's err serializer expects an Error; anything else thrown is in errorDetail.
    const errorFields = failed ? { ...(outcome.error instanceof Error ? { err: outcome.error } : {}), errorDetail: errorDetail(outcome.error) } : {};
    this.options.logger[level]({ ...fields, ...errorFields }, 'job run finished');
    try {
      this.options.emit({ summary, definition, instanceId: this.options.instanceId });
    } catch (listenerError) {
      this.options.logger.error({ err: listenerError }, 'onRunFinished listener failed');
    }
    return summary;
  }

  /** The job is already running (here or elsewhere): `skip` records the slot as skipped, `queue-one` leaves it due. */
  private async overlap(definition: JobDefinition, request: RunRequest, reason: string): Promise<RunSummary | undefined> {
    if (definition.overlap === 'queue-one' && request.slot !== null) return unrecordedSummary(definition.name, request, `queued: ${reason}`);
    const now = this.options.clock.now();
    const row = { ...this.row(definition.name, request, 'skipped', now), output: reason, finishedAt: now };
    const id = request.slot === null ? await this.options.ledger.insert(row) : await this.options.ledger.insertSlot({ ...row, scheduledFor: request.slot });
    // undefined: the slot is already recorded, i.e. it is being run by whoever recorded it.
    return { id: id ?? null, job: definition.name, scheduledFor: request.slot, trigger: request.trigger, status: 'skipped', durationMs: 0, counts: {}, reason };
  }

  private row(job: string, request: Pick<RunRequest, 'slot' | 'trigger' | 'dryRun' | 'caller' | 'params'>, status: 'running' | 'skipped', startedAt: number): NewCronRun {
    return {
      job,
      scheduledFor: request.slot,
      trigger: request.trigger,
      status,
      startedAt,
      instanceId: this.options.instanceId,
      dryRun: request.dryRun,
      ip: request.caller.ip,
      userAgent: request.caller.userAgent === undefined ? undefined : request.caller.userAgent.slice(0, 300),
      requestId: request.caller.requestId,
      params: request.params === undefined || Object.keys(request.params).length === 0 ? undefined : JSON.stringify(request.params),
    };
  }
}
