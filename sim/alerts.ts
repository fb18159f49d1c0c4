import type { AlertEvent, AlertSink } from '../src/alerts/types.js';
import { CronRunsRepository, type CronRunOutcome } from '../src/db/repositories/cron-runs.js';
import type { Storage } from '../src/db/database.js';
import type { JobStatus } from '../src/jobs/types.js';

/** One alert the real AlertMonitor sent, in the order all instances sent them. */
export interface SentAlert {
  readonly seq: number;
  readonly world: number;
  readonly event: AlertEvent;
}

/** One lateness check (`status()` as the monitor read it) by one incarnation. */
export interface LatenessCheck {
  readonly seq: number;
  readonly world: number;
  /** The world event (World.events) the check ran in: work resumed in that same event may interleave with it. */
  readonly event: number;
  readonly instance: string;
  /** The instance's clock when it checked (world time plus its skew). */
  readonly now: number;
  /** When this incarnation's jobs service was created (its status() anchor for jobs that never succeeded). */
  readonly createdAt: number;
  readonly late: ReadonlyMap<string, boolean>;
}

/**
 * Records, on one sequence shared by every instance, what the lateness oracle
 * needs: each successful ledger finish (when it became visible), each check
 * the real alert monitor made, and each alert its sink received.
 */
export class AlertRecorder {
  readonly alerts: SentAlert[] = [];
  readonly checks: LatenessCheck[] = [];
  /** Ledger row id → when its `ok` finish was committed: sequence number and world event. */
  readonly okAt = new Map<number, { seq: number; event: number }>();
  private seq = 0;

  constructor(
    private readonly worldNow: () => number,
    private readonly worldEvent: () => number,
  ) {}

  next(): number {
    this.seq += 1;
    return this.seq;
  }

  /** A run's `ok` finish reached the ledger. */
  committed(id: number): void {
    this.okAt.set(id, { seq: this.next(), event: this.worldEvent() });
  }

  /** The sink an incarnation's AlertMonitor sends to (the hook the webhook and mail sinks sit on). */
  sink(): AlertSink {
    return {
      name: 'sim',
      send: async (event) => {
        this.alerts.push({ seq: this.next(), world: this.worldNow(), event });
      },
    };
  }

  /** Wraps the monitor's status() so every check is recorded with the instance's clock reading. */
  watch(instance: string, createdAt: number, now: () => number, status: () => Promise<readonly JobStatus[]>): () => Promise<readonly JobStatus[]> {
    return async () => {
      const seq = this.next();
      const at = now();
      const statuses = await status();
      this.checks.push({ seq, world: this.worldNow(), event: this.worldEvent(), instance, now: at, createdAt, late: new Map(statuses.map((s) => [s.job, s.late])) });
      return statuses;
    };
  }
}

/** The real ledger repository, noting when each `ok` finish is committed (for the lateness oracle). */
export class RecordingLedger extends CronRunsRepository {
  constructor(
    storage: Storage,
    private readonly recorder: AlertRecorder,
  ) {
    super(storage);
  }

  override async finish(id: number, outcome: CronRunOutcome): Promise<boolean> {
    const kept = await super.finish(id, outcome);
    if (kept && outcome.status === 'ok') this.recorder.committed(id);
    return kept;
  }
}
