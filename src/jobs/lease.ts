import type { Clock } from '../clock.js';
import type { JobLeasesRepository } from '../db/repositories/job-leases.js';

/** The lease store the runner needs (the job_leases repository). */
export type LeaseStore = Pick<JobLeasesRepository, 'tryAcquire' | 'renew' | 'release' | 'current'>;

export type LeaseAttempt =
  | { readonly acquired: true; readonly lease: HeldLease; readonly previousHolder: string | undefined }
  | { readonly acquired: false; readonly holder: string | null };

export interface LeaseOptions {
  readonly store: LeaseStore;
  readonly job: string;
  readonly holder: string;
  readonly ttlMs: number;
  readonly clock: Clock;
}

/**
 * Tries to take `job`'s lease. On success, `previousHolder` names another
 * instance whose lease had expired (it crashed or stalled), so the caller can
 * mark that holder's `running` rows as abandoned.
 */
export async function acquireLease(options: LeaseOptions): Promise<LeaseAttempt> {
  const { store, job, holder, ttlMs, clock } = options;
  const now = clock.now();
  // Read before the upsert: the upsert's RETURNING shows only the new holder.
  const before = await store.current(job, Number.MIN_SAFE_INTEGER);
  if (!(await store.tryAcquire(job, holder, now, ttlMs))) {
    const current = await store.current(job, now);
    return { acquired: false, holder: current?.holder ?? before?.holder ?? null };
  }
  const previousHolder = before !== undefined && before.holder !== holder && before.lease_until <= now ? before.holder : undefined;
  return { acquired: true, lease: new HeldLease(options), previousHolder };
}

/**
 * A lease this instance holds. `keepAlive()` renews it every `ttl / 3` (real
 * time, unref'd timer) while the job runs; a failed renewal means another
 * instance took it over, and `onLost` fires once.
 */
export class HeldLease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(private readonly options: LeaseOptions) {}

  get job(): string {
    return this.options.job;
  }

  /** Extends the lease to now + ttl. False when it was lost to another holder. */
  async renew(): Promise<boolean> {
    if (this.lost) return false;
    const { store, job, holder, ttlMs, clock } = this.options;
    const kept = await store.renew(job, holder, clock.now(), ttlMs);
    if (!kept) this.lost = true;
    return kept;
  }

  /** Renews every `intervalMs` (default ttl / 3) until release(); calls onLost once if renewal fails. */
  keepAlive(onLost: (error: Error) => void, intervalMs = Math.max(50, Math.floor(this.options.ttlMs / 3))): void {
    this.timer = setInterval(() => {
      this.renew().then(
        (kept) => {
          if (!kept) {
            this.stopRenewing();
            onLost(new Error(`lease of ${this.options.job} lost to another instance`));
          }
        },
        // A failed renewal query (database hiccup) is retried at the next interval;
        // the lease only counts as lost when another holder is recorded.
        () => undefined,
      );
    }, intervalMs);
    this.timer.unref();
  }

  private stopRenewing(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops renewing and frees the lease (if still ours). */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.options.store.release(this.options.job, this.options.holder);
  }
}
