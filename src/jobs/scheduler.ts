import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { BackgroundTask } from '../background-task.js';
import { nextSlot } from './schedule.js';
import type { DefaultJobsService } from './service.js';
import { systemTimers, type Timers } from './timers.js';

export interface SchedulerOptions {
  readonly service: DefaultJobsService;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Longest sleep between ticks in ms (default 60 000), so lease take-overs and clock jumps are noticed. */
  readonly maxSleepMs?: number;
  /** Default real (unref'd) timers; a simulator passes virtual ones with its clock. */
  readonly timers?: Timers;
}

/**
 * The in-process scheduler: at each job's next slot it decides what is due
 * (pure slot maths over the ledger's last slot) and has the runner record and
 * run it, through the service. Timers are unref'd; stop() waits for running
 * jobs. A simulator can call tick() at virtual instants instead of start().
 */
export class InProcessScheduler implements BackgroundTask {
  readonly name = 'scheduler';
  private cancelWake: (() => void) | undefined;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: SchedulerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    // A queue-one follow-up waits for the job's own run to finish: look again right then.
    this.unsubscribe = this.options.service.onRunFinished((event) => {
      if (this.running && event.definition.overlap === 'queue-one') this.wake(0);
    });
    this.wake(0);
  }

  /**
   * Runs one decision round for every enabled job at the clock's now and
   * resolves when the runs it started have finished. Never throws: failures
   * are in the ledger and the log.
   */
  async tick(): Promise<void> {
    const { service, clock, logger } = this.options;
    const now = clock.now();
    await Promise.all(
      service.registry
        .all()
        // A job whose last decision found nothing due before its next slot needs no ledger read now.
        .filter((job) => job.definition.enabled && !service.isQuiet(job.definition.name, now))
        .map((job) =>
          service.runDueJob(job, 'schedule', {}, now).then(
            () => undefined,
            (error: unknown) => logger.error({ err: error, job: job.definition.name }, 'scheduler tick failed for job'),
          ),
        ),
    );
  }

  /** The delay until the earliest next slot of any enabled job, clamped to [0, maxSleepMs]. */
  private delayToNextSlot(): number {
    const now = this.options.clock.now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const job of this.options.service.registry.all()) {
      if (!job.definition.enabled) continue;
      const next = nextSlot(job.schedule, now);
      if (next !== null) earliest = Math.min(earliest, next);
    }
    const max = this.options.maxSleepMs ?? 60_000;
    // +2 ms: wake just after the slot, so it is at or before "now" when deciding.
    return Math.max(0, Math.min(max, earliest - now + 2));
  }

  private wake(delayMs: number): void {
    this.cancelWake?.();
    this.cancelWake = (this.options.timers ?? systemTimers).after(delayMs, () => {
      this.cancelWake = undefined;
      if (!this.running) return;
      const tick = this.tick().finally(() => this.inFlight.delete(tick));
      this.inFlight.add(tick);
      // Ticks do not wait for each other: a long job must not delay other jobs' slots.
      this.wake(Math.max(10, this.delayToNextSlot()));
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.cancelWake?.();
    this.cancelWake = undefined;
    // The service refuses new runs at once (before its first await), so a tick
    // still deciding starts nothing; then the ticks and the running jobs settle.
    const stopping = this.options.service.stop();
    await Promise.allSettled([...this.inFlight]);
    await stopping;
  }
}
