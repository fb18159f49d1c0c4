import { DEFAULT_LEASE_HEARTBEAT_MS, DEFAULT_LEASE_TTL_MS } from '../config/lease-defaults.js';
import type { JobLeasesRepository } from '../db/repositories/job-leases.js';
import { delay, systemTimers, type Timers } from './timers.js';

/**
 * The lease store the runner needs (the job_leases repository). It reads and
 * writes every lease time on the database's clock: no caller passes its own.
 */
export type LeaseStore = Pick<JobLeasesRepository, 'read' | 'tryAcquire' | 'renew' | 'release' | 'current'>;

export type LeaseAttempt =
  | { readonly acquired: true; readonly lease: HeldLease; readonly previousHolder: string | undefined }
  | { readonly acquired: false; readonly holder: string | null };

/** How long a lease lives and how often its holder renews it. */
export interface LeaseTiming {
  /** Time-to-live in ms (SCHEDULER_LEASE_TTL, default 20 000): a dead holder's lease is free after this. */
  readonly ttlMs: number;
  /** Renewal interval in ms (SCHEDULER_LEASE_HEARTBEAT, default 5 000); never more than ttl / 3. */
  readonly heartbeatMs: number;
}

/** The scheduler's default lease timing, the configuration's defaults: short and renewed, so a crashed holder is taken over within seconds. */
export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: DEFAULT_LEASE_TTL_MS, heartbeatMs: DEFAULT_LEASE_HEARTBEAT_MS };

export interface LeaseOptions {
  readonly store: LeaseStore;
  /** Time-to-live in ms. */
  readonly ttlMs: number;
  /** Renewal interval in ms (default 5 000, at most ttl / 3). */
  readonly heartbeatMs?: number;
  readonly job: string;
  readonly holder: string;
  /** Default: real timers. */
  readonly timers?: Timers;
}

/** The heartbeat for a lease of `ttlMs`: the configured one (default 5 s), at most ttl / 3 (at least 50 ms). */
export function heartbeatFor(timing: { readonly ttlMs: number; readonly heartbeatMs?: number }): number {
  return Math.max(50, Math.min(timing.heartbeatMs ?? DEFAULT_LEASE_TIMING.heartbeatMs, Math.floor(timing.ttlMs / 3)));
}

/**
 * Tries to take `job`'s lease. On success, `previousHolder` names another
 * instance whose lease had expired (it crashed or stalled), so the caller can
 * mark that holder's `running` rows as abandoned.
 *
 * A lease held by a live holder (renewed within two heartbeats) is refused at
 * once. A lease whose holder has stopped renewing (crashed, kill -9) is not
 * "held": the caller waits until it runs out (at most one TTL, on `timers`)
 * and takes it over, so an outside trigger that hits a dead run is answered
 * with a run, not "busy".
 *
 * Expiry, silence and the wait are all judged on the database's clock (the
 * store's), so a caller whose own clock runs minutes ahead never takes a live
 * lease; this function reads no clock of its own.
 */
export async function acquireLease(options: LeaseOptions): Promise<LeaseAttempt> {
  const { store, job, holder, ttlMs } = options;
  const timers = options.timers ?? systemTimers;
  const silentAfterMs = 2 * heartbeatFor(options);
  let lastHolder: string | null = null;
  // Read before the upsert: the upsert's RETURNING shows only the new holder.
  let reading = await store.read(job);
  // Three rounds: a silent holder's lease runs out during the first wait; the
  // others cover a lost takeover race or a clock that does not move (tests).
  for (let round = 0; round < 3; round += 1) {
    const before = reading;
    if (await store.tryAcquire(job, holder, ttlMs)) {
      const expired = before.lease !== undefined && before.lease.holder !== holder && before.lease.lease_until <= before.now;
      return { acquired: true, lease: new HeldLease(options), previousHolder: expired ? before.lease?.holder : undefined };
    }
    reading = await store.read(job);
    const current = reading.lease;
    const now = reading.now;
    if (current === undefined || current.lease_until <= now) continue; // freed or expired between the two statements: try again
    lastHolder = current.holder;
    const renewedAt = current.renewed_at ?? current.acquired_at;
    if (now - renewedAt <= silentAfterMs) return { acquired: false, holder: current.holder };
    const waitMs = current.lease_until - now + 1;
    if (waitMs > ttlMs + 1) return { acquired: false, holder: current.holder };
    await delay(timers, waitMs);
    reading = await store.read(job);
    // A database clock that did not move with the timers (a frozen test clock) would only wait again.
    if (reading.now < current.lease_until) return { acquired: false, holder: current.holder };
  }
  return { acquired: false, holder: lastHolder };
}

/**
 * A lease this instance holds. `keepAlive()` renews it every heartbeat
 * (unref'd timer) while the job runs; a failed renewal means another
 * instance took it over, and `onLost` fires once.
 */
export class HeldLease {
  private cancel: (() => void) | undefined;
  private lost = false;
  private released = false;

  constructor(private readonly options: LeaseOptions) {}

  get job(): string {
    return this.options.job;
  }

  /** Extends the lease to now + ttl (database time). False when it was lost to another holder. */
  async renew(): Promise<boolean> {
    if (this.lost) return false;
    const { store, job, holder, ttlMs } = this.options;
    const kept = await store.renew(job, holder, ttlMs);
    if (!kept) this.lost = true;
    return kept;
  }

  /** Renews every heartbeat (default: `heartbeatFor(options)`) until release(); calls onLost once if renewal fails. */
  keepAlive(onLost: (error: Error) => void, intervalMs = heartbeatFor(this.options)): void {
    const timers = this.options.timers ?? systemTimers;
    const beat = () => {
      this.cancel = timers.after(intervalMs, () => {
        this.cancel = undefined;
        if (this.released) return;
        this.renew().then(
          (kept) => {
            if (kept) {
              if (!this.released) beat();
              return;
            }
            onLost(new Error(`lease of ${this.options.job} lost to another instance`));
          },
          // A failed renewal query (database hiccup) is retried at the next beat;
          // the lease only counts as lost when another holder is recorded.
          () => {
            if (!this.released) beat();
          },
        );
      });
    };
    beat();
  }

  private stopRenewing(): void {
    this.released = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Stops renewing and frees the lease (if still ours). */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.options.store.release(this.options.job, this.options.holder);
  }
}
