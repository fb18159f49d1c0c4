import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobStatus, JobsService, RunSummary } from '../jobs/types.js';

/** Reads the current job status at scrape time (the jobs service's `status()`). */
export type StatusSource = () => Promise<readonly JobStatus[]>;

/**
 * The Prometheus metrics of one app (its own Registry, so several apps in a
 * process never collide). Names are prefixed `curfew_`; labels hold job
 * names, statuses and error codes only, never a credential.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly runs: Counter<'job' | 'status' | 'trigger'>;
  readonly duration: Histogram<'job' | 'status'>;
  readonly late: Gauge<'job'>;
  readonly lastSuccess: Gauge<'job'>;
  readonly triggerRejections: Counter<'code'>;
  private statusSource: StatusSource | undefined;
  private passwordChecks: (() => number) | undefined;

  /** `defaultMetrics` adds process/heap/event-loop metrics (default true). */
  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.runs = new Counter({
      name: 'curfew_job_runs_total',
      help: 'Finished job runs on this instance, by job, status and trigger.',
      labelNames: ['job', 'status', 'trigger'],
      registers,
    });
    this.duration = new Histogram({
      name: 'curfew_job_duration_seconds',
      help: 'Job run duration on this instance.',
      labelNames: ['job', 'status'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
      registers,
    });
    const metrics = this;
    this.late = new Gauge({
      name: 'curfew_job_late',
      help: '1 when the job has not succeeded within its lateness threshold (JOB_<NAME>_LATE_AFTER / CRON_LATE_AFTER; never while paused or disabled), from the shared run ledger.',
      labelNames: ['job'],
      registers,
      async collect() {
        await metrics.refreshStatus();
      },
    });
    this.lastSuccess = new Gauge({
      name: 'curfew_job_last_success_timestamp_seconds',
      help: 'Unix time of the job\'s last successful run (from the shared run ledger).',
      labelNames: ['job'],
      registers,
      async collect() {
        await metrics.refreshStatus();
      },
    });
    this.triggerRejections = new Counter({
      name: 'curfew_trigger_rejections_total',
      help: 'Trigger requests refused by the guard, by error code.',
      labelNames: ['code'],
      registers,
    });
    new Counter({
      name: 'curfew_password_checks_total',
      help: 'Password hashes verified by this instance (login attempts that passed the limiter).',
      registers,
      collect() {
        const value = metrics.passwordChecks?.();
        if (value !== undefined) {
          this.reset();
          this.inc(value);
        }
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'curfew_' });
  }

  /** Where the late and last-success gauges read from; set once the jobs service exists. */
  setStatusSource(source: StatusSource): void {
    this.statusSource = source;
  }

  /** Where `curfew_password_checks_total` reads its count (the PasswordHasher's `checks`). */
  countPasswordChecks(source: () => number): void {
    this.passwordChecks = source;
  }

  /** Reads lateness from `jobs` at scrape time and counts every run it finishes. */
  watch(jobs: Pick<JobsService, 'status' | 'onRunFinished'>): void {
    this.setStatusSource(() => jobs.status());
    jobs.onRunFinished((event) => this.observeRun(event.summary));
  }

  /** Counts one finished run. */
  observeRun(summary: RunSummary): void {
    if (summary.status === 'running') return;
    this.runs.inc({ job: summary.job, status: summary.status, trigger: summary.trigger });
    this.duration.observe({ job: summary.job, status: summary.status }, summary.durationMs / 1000);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private refreshing: Promise<void> | undefined;

  /** One status read per scrape, shared by both gauges (prom-client collects them concurrently). */
  private refreshStatus(): Promise<void> {
    this.refreshing ??= this.readStatus().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readStatus(): Promise<void> {
    if (this.statusSource === undefined) return;
    const statuses = await this.statusSource();
    this.late.reset();
    this.lastSuccess.reset();
    for (const status of statuses) {
      this.late.set({ job: status.job }, status.late ? 1 : 0);
      if (status.lastSuccessAt !== null) this.lastSuccess.set({ job: status.job }, Math.floor(status.lastSuccessAt / 1000));
    }
  }
}
