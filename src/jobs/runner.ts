import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.js';
import type { CronRunsRepository, NewCronRun } from '../db/repositories/cron-runs.js';
import { redactText, type Logger } from '../logger.js';
import { acquireLease, type HeldLease, type LeaseStore } from './lease.js';
import type { CallerInfo, Counts, JobDefinition, Progress, RunFinishedEvent, RunStatus, RunSummary, Trigger } from './types.js';

/** The ledger operations the runner needs (the cron_runs repository). */
export type RunLedger = Pick<CronRunsRepository, 'insertSlot' | 'insert' | 'finish' | 'updateCounts' | 'abandonRunning'>;

export const ABANDONED_ERROR = 'abandoned (lease expired)';
const MAX_ERROR = 500;
const MAX_OUTPUT = 300;
const PROGRESS_WRITE_MS = 1000;

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
}

/** One request to run a job: a slot (from a trigger or the scheduler) or ad-hoc (slot null). */
export interface RunRequest {
  readonly slot: number | null;
  readonly trigger: Trigger;
  readonly dryRun: boolean;
  readonly caller: CallerInfo;
  readonly onProgress?: ((progress: Progress) => void) | undefined;
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Short, single-line, secret-free text for the ledger. */
export function shortText(text: string, max: number): string {
  const clean = redactText(text).replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function cleanCounts(counts: unknown): Record<string, number> {
  const result: Record<string, number> = {};
  if (counts !== null && typeof counts === 'object') {
    for (const [key, value] of Object.entries(counts)) {
      if (typeof value === 'number' && Number.isFinite(value)) result[key] = value;
    }
  }
  return result;
}

/**
 * The one path every trigger ends in: record → lease → run (timeout, retries,
 * progress) → finish the ledger row → release → notify listeners.
 */
export class JobRunner {
  /** Jobs running in this process; a second local run of one is an overlap. */
  private readonly active = new Map<string, Promise<unknown>>();
  private readonly shutdown = new AbortController();
  private stopping = false;

  constructor(private readonly options: RunnerOptions) {}

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
    if (this.stopping) return this.unrecorded(definition, request, 'shutting down');
    if (this.active.has(definition.name)) {
      return this.overlap(definition, request, `already running on this instance (${this.options.instanceId})`);
    }
    // Registered synchronously, before any await, so a concurrent local call sees the overlap.
    const running = this.runExclusive(definition, request);
    this.active.set(definition.name, running);
    try {
      return await running;
    } finally {
      this.active.delete(definition.name);
    }
  }

  /** Stops taking runs; waits for running ones, aborting them after the drain time. */
  async stop(): Promise<void> {
    this.stopping = true;
    const timer = setTimeout(() => this.shutdown.abort(new Error('shutting down')), this.options.drainMs ?? 10_000);
    timer.unref();
    await Promise.allSettled([...this.active.values()]);
    clearTimeout(timer);
  }

  private async runExclusive(definition: JobDefinition, request: RunRequest): Promise<RunSummary | undefined> {
    const { ledger, leases, clock, instanceId } = this.options;
    const job = definition.name;
    if (definition.overlap === 'queue-one' && request.slot !== null) {
      // Leave the slot unrecorded so it stays due and runs once the lease frees.
      const current = await leases.current(job, clock.now());
      if (current !== undefined && current.holder !== instanceId) {
        return this.unrecorded(definition, request, `queued: running on ${current.holder}`);
      }
    }
    const startedAt = clock.now();
    const row = this.row(definition, request, 'running', startedAt);
    const id = request.slot === null ? await ledger.insert(row) : await ledger.insertSlot({ ...row, scheduledFor: request.slot });
    if (id === undefined) return undefined;

    const attempt = await acquireLease({ store: leases, job, holder: instanceId, ttlMs: definition.leaseTtlMs, clock });
    if (!attempt.acquired) {
      const reason = `lease held by ${attempt.holder ?? 'another instance'}`;
      return this.finish(definition, request, id, startedAt, { status: 'skipped', counts: {}, reason });
    }
    const lease = attempt.lease;
    try {
      await this.sweepAbandoned(definition, id, attempt.previousHolder);
      const outcome = await this.execute(definition, request, id, lease);
      return await this.finish(definition, request, id, startedAt, outcome);
    } finally {
      await lease.release().catch((error: unknown) => this.options.logger.warn({ err: error, job }, 'lease release failed'));
    }
  }

  /**
   * Runs of `job` still `running` that are not ours are dead: those of the
   * holder whose lease expired, and any older than the lease TTL (their
   * instance died before it held the lease; a live run always holds it).
   */
  private async sweepAbandoned(definition: JobDefinition, ownId: number, previousHolder: string | undefined): Promise<void> {
    const now = this.options.clock.now();
    const job = definition.name;
    const count = await this.options.ledger.abandonRunning(job, previousHolder, ownId, now, now - definition.leaseTtlMs, ABANDONED_ERROR);
    if (count > 0) this.options.logger.warn({ job, previousHolder, count }, 'marked runs of an expired lease holder as abandoned');
  }

  private async execute(definition: JobDefinition, request: RunRequest, id: number, lease: HeldLease): Promise<Outcome> {
    const lost = new AbortController();
    lease.keepAlive((error) => lost.abort(error));
    let last: Outcome = { status: 'failed', counts: {} };
    for (let attempt = 0; ; attempt += 1) {
      last = await this.attempt(definition, request, id, lost.signal);
      const retryable = last.status === 'failed' && !lost.signal.aborted && !this.shutdown.signal.aborted;
      if (!retryable || attempt >= definition.retries.max) return attempt > 0 ? { ...last, attempts: attempt + 1 } : last;
      const delay = definition.retries.baseDelayMs * 2 ** attempt;
      this.options.logger.warn({ job: definition.name, attempt: attempt + 1, delayMs: delay, error: last.error }, 'job failed; retrying');
      await abortableDelay(delay, this.shutdown.signal);
    }
  }

  private async attempt(definition: JobDefinition, request: RunRequest, id: number, leaseLost: AbortSignal): Promise<Outcome> {
    const controller = new AbortController();
    // Not unref'd: a run in flight (e.g. `curfew jobs run`) must keep the process alive until it ends.
    const timer = setTimeout(() => controller.abort(new TimeoutError(`timed out after ${definition.timeoutMs} ms`)), definition.timeoutMs);
    const forward = (signal: AbortSignal) => () => controller.abort(signal.reason);
    const onLost = forward(leaseLost);
    const onShutdown = forward(this.shutdown.signal);
    leaseLost.addEventListener('abort', onLost, { once: true });
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
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
      const message = error instanceof Error ? error.message : String(error);
      return { status, counts: progress, error: message };
    } finally {
      clearTimeout(timer);
      leaseLost.removeEventListener('abort', onLost);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }
  }

  private async finish(definition: JobDefinition, request: RunRequest, id: number, startedAt: number, outcome: Outcome): Promise<RunSummary> {
    const finishedAt = this.options.clock.now();
    const durationMs = Math.max(0, finishedAt - startedAt);
    const error = outcome.error === undefined ? null : shortText(outcome.error, MAX_ERROR);
    const output = outcome.reason ?? (outcome.status === 'ok' ? describeCounts(outcome.counts, definition.placeholder) : null);
    const kept = await this.options.ledger.finish(id, {
      status: outcome.status,
      finishedAt,
      durationMs,
      counts: JSON.stringify(outcome.attempts === undefined ? outcome.counts : { ...outcome.counts, attempts: outcome.attempts }),
      output: output === null ? null : shortText(output, MAX_OUTPUT),
      error,
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
    this.options.logger[level]({ job: definition.name, runId: id, slot: request.slot, trigger: request.trigger, status, durationMs, error: summary.error }, 'job run finished');
    try {
      this.options.emit({ summary, definition, instanceId: this.options.instanceId });
    } catch (listenerError) {
      this.options.logger.error({ err: listenerError }, 'onRunFinished listener failed');
    }
    return summary;
  }

  /** The job is already running (here or elsewhere): `skip` records the slot as skipped, `queue-one` leaves it due. */
  private async overlap(definition: JobDefinition, request: RunRequest, reason: string): Promise<RunSummary | undefined> {
    if (definition.overlap === 'queue-one' && request.slot !== null) return this.unrecorded(definition, request, `queued: ${reason}`);
    const now = this.options.clock.now();
    const row = { ...this.row(definition, request, 'skipped', now), output: reason, finishedAt: now };
    const id = request.slot === null ? await this.options.ledger.insert(row) : await this.options.ledger.insertSlot({ ...row, scheduledFor: request.slot });
    // undefined: the slot is already recorded, i.e. it is being run by whoever recorded it.
    return { id: id ?? null, job: definition.name, scheduledFor: request.slot, trigger: request.trigger, status: 'skipped', durationMs: 0, counts: {}, reason };
  }

  private unrecorded(definition: JobDefinition, request: RunRequest, reason: string): RunSummary {
    return { id: null, job: definition.name, scheduledFor: request.slot, trigger: request.trigger, status: 'skipped', durationMs: 0, counts: {}, reason };
  }

  private row(definition: JobDefinition, request: RunRequest, status: 'running' | 'skipped', startedAt: number): NewCronRun {
    return {
      job: definition.name,
      scheduledFor: request.slot,
      trigger: request.trigger,
      status,
      startedAt,
      instanceId: this.options.instanceId,
      dryRun: request.dryRun,
      ip: request.caller.ip,
      userAgent: request.caller.userAgent === undefined ? undefined : request.caller.userAgent.slice(0, 300),
      requestId: request.caller.requestId,
    };
  }
}

interface Outcome {
  readonly status: Exclude<RunStatus, 'running' | 'missed'>;
  readonly counts: Counts;
  readonly error?: string;
  readonly reason?: string;
  readonly attempts?: number;
}

function describeCounts(counts: Counts, placeholder: string | undefined): string {
  const text = Object.entries(counts)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return placeholder === undefined ? text : `placeholder: ${placeholder}${text === '' ? '' : ` (${text})`}`;
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
