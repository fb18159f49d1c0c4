import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { JobStatus, RunFinishedEvent } from '../jobs/types.js';
import { systemTimers, type Timers } from '../jobs/timers.js';
import { isSlow, type DurationHistory } from './slow.js';
import type { AlertEvent, AlertKind, AlertSink, AlertStateStore } from './types.js';

export interface AlertMonitorOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The jobs service's status(), read on every check. */
  readonly status: () => Promise<readonly JobStatus[]>;
  readonly store: AlertStateStore;
  readonly sinks: readonly AlertSink[];
  readonly instanceId: string;
  /** Consecutive failures that open a `failing` episode (default 1). */
  readonly failureThreshold?: number;
  /** Durations used as "usual", and how far off counts as slow (see slow.ts). */
  readonly history?: DurationHistory;
  /** How often the background loop checks (default 30 000 ms). */
  readonly intervalMs?: number;
  /** Default real (unref'd) timers; a simulator passes virtual ones with its clock. */
  readonly timers?: Timers;
  /** Deliveries whose outcome is unknown (sequence sends + outbox); an episode on `sequence-tick` while above 0. Default none. */
  readonly unknownSends?: () => Promise<number>;
}

/**
 * Watches jobs for lateness, repeated failure and unusual duration, and sends
 * one `firing` event per episode and one `resolved` when it ends. Episodes
 * live in the database, so several instances send each event once in all.
 */
export class AlertMonitor {
  readonly name = 'alerts';
  private cancelTimer: (() => void) | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly failureThreshold: number;

  constructor(private readonly options: AlertMonitorOptions) {
    this.failureThreshold = options.failureThreshold ?? 1;
  }

  /** True when there is somewhere to send alerts. */
  get enabled(): boolean {
    return this.options.sinks.length > 0;
  }

  /** Evaluates `late` and `failing` for every job now. */
  async check(): Promise<void> {
    if (!this.enabled) return;
    if (this.options.unknownSends) {
      const unknown = await this.options.unknownSends();
      await this.transition('sequence-tick', 'unknown', unknown > 0, { unknown_sends: unknown });
    }
    for (const status of await this.options.status()) {
      const active = status.enabled;
      // status.late is lateness.ts's verdict (never while paused), the same /cron/status and curfew_job_late show.
      await this.transition(status.job, 'late', active && status.late, {
        late_by_seconds: status.lateBySeconds,
        late_after_seconds: Math.round(status.lateAfterMs / 1000),
        last_success_at: iso(status.lastSuccessAt),
        next_slot: iso(status.nextSlot),
        schedule: status.schedule,
      });
      // Paused by an operator (often because it was failing): no new episode
      // opens, and an open one stays open until a run succeeds after resume.
      if (status.paused) continue;
      if (!active || status.consecutiveFailures === 0) {
        await this.transition(status.job, 'failing', false, { consecutive_failures: 0 });
      } else if (status.consecutiveFailures >= this.failureThreshold) {
        await this.transition(status.job, 'failing', true, {
          consecutive_failures: status.consecutiveFailures,
          last_error: status.lastRun?.error ?? null,
        });
      }
    }
  }

  /** The jobs service's run-finished listener: duration check, then a full check. */
  onRunFinished(event: RunFinishedEvent): void {
    if (!this.enabled) return;
    this.track(this.afterRun(event));
  }

  /** Resolves once every alert started so far has been sent (or failed and been logged). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  start(): void {
    if (!this.enabled || this.cancelTimer) return;
    const timers = this.options.timers ?? systemTimers;
    const every = this.options.intervalMs ?? 30_000;
    const beat = () => {
      this.cancelTimer = timers.after(every, () => {
        this.track(this.check());
        beat();
      });
    };
    beat();
  }

  async stop(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.idle();
  }

  private async afterRun(event: RunFinishedEvent): Promise<void> {
    const { summary } = event;
    if (summary.status === 'ok' && !summary.dryRun) {
      const verdict = this.options.history ? isSlow(this.options.history, summary.job, summary.durationMs) : undefined;
      if (verdict !== undefined) {
        await this.transition(summary.job, 'slow', verdict.slow, {
          duration_ms: summary.durationMs,
          usual_ms: verdict.usualMs,
        });
      }
    }
    await this.check();
  }

  private async transition(job: string, kind: AlertKind, firing: boolean, details: AlertEvent['details']): Promise<void> {
    const now = this.options.clock.now();
    const changed = firing ? await this.options.store.open(job, kind, now) : await this.options.store.close(job, kind, now);
    if (!changed) return;
    const event: AlertEvent = {
      type: `job.${kind}`,
      state: firing ? 'firing' : 'resolved',
      job,
      at: new Date(now).toISOString(),
      summary: describe(job, kind, firing),
      details,
      instance: this.options.instanceId,
    };
    await Promise.all(
      this.options.sinks.map(async (sink) => {
        try {
          await sink.send(event);
          this.options.logger.info({ alert: event.type, state: event.state, job, sink: sink.name }, 'alert sent');
        } catch (error) {
          this.options.logger.warn({ err: error, alert: event.type, job, sink: sink.name }, 'alert could not be sent');
        }
      }),
    );
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'alert check failed'))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function describe(job: string, kind: AlertKind, firing: boolean): string {
  const what = { late: 'is late', failing: 'is failing', slow: 'ran far longer than usual', unknown: 'left deliveries in state unknown; resolve them (curfew sends list --state unknown)' }[kind];
  const back = { late: 'is on time again', failing: 'succeeded again', slow: 'runs at its usual speed again', unknown: 'has no unknown deliveries any more' }[kind];
  return `Job ${job} ${firing ? what : back}.`;
}
