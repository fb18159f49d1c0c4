import type { Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { JobLeasesTable } from '../schema/scheduler.js';

export type JobLeaseRow = Selectable<JobLeasesTable>;

/** Data access for `job_leases`: one row per job, held by one instance until `lease_until`. */
export class JobLeasesRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  /**
   * Takes the lease when it is free, expired, or already `holder`'s; one
   * conditional upsert. Race-safe: under concurrent calls exactly one holder
   * wins a free or expired lease.
   */
  async tryAcquire(job: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const row = await this.db
      .insertInto('job_leases')
      .values({ job, holder, lease_until: now + ttlMs, acquired_at: now, renewed_at: now })
      .onConflict((oc) =>
        oc
          .column('job')
          .doUpdateSet({ holder, lease_until: now + ttlMs, acquired_at: now, renewed_at: now })
          .where((eb) => eb.or([eb('job_leases.lease_until', '<=', now), eb('job_leases.holder', '=', holder)])),
      )
      .returning('job')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Extends `holder`'s lease to now + ttl, even past its expiry as long as no
   * one else took it. False when the lease is someone else's (lost).
   */
  async renew(job: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('job_leases')
      .set({ lease_until: now + ttlMs, renewed_at: now })
      .where('job', '=', job)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives the lease up if `holder` still has it. */
  async release(job: string, holder: string): Promise<void> {
    await this.db.deleteFrom('job_leases').where('job', '=', job).where('holder', '=', holder).execute();
  }

  /** The live lease of `job` at `now`, if any. */
  async current(job: string, now: number): Promise<JobLeaseRow | undefined> {
    return this.db.selectFrom('job_leases').selectAll().where('job', '=', job).where('lease_until', '>', now).executeTakeFirst();
  }
}
