import { sql, type Expression, type Selectable } from 'kysely';
import type { Clock } from '../../clock.js';
import { PrecompiledQuery } from '../compiled-query.js';
import type { Storage } from '../database.js';
import type { JobLeasesTable } from '../schema/scheduler.js';

export type JobLeaseRow = Selectable<JobLeasesTable>;

/** A job's lease row (live or expired; undefined when none) and the database's time of the read. */
export interface LeaseReading {
  readonly lease: JobLeaseRow | undefined;
  readonly now: number;
}

/** Every statement's parameters: `now` and `until` are used when a clock stands for the database's, `ttl` when not. */
interface LeaseParams {
  readonly job: string;
  readonly holder: string;
  readonly now: number;
  readonly until: number;
  readonly ttl: number;
}

/**
 * Data access for `job_leases`: one row per job, held by one instance until `lease_until`.
 *
 * Every lease time (`lease_until`, `acquired_at`, `renewed_at`) and every
 * "is it expired?" comparison is on the **database's clock**, never the
 * caller's: instances whose clocks disagree (a jump of minutes on one machine)
 * still agree on who holds a lease, so a live holder is never taken over.
 * On PostgreSQL that is the server's `statement_timestamp()`; on SQLite the
 * machine's clock as SQLite reads it (`unixepoch('subsec')`), the one time
 * source every process sharing the file reads.
 */
export class JobLeasesRepository {
  /**
   * @param clock Stands for the database's clock when given: tests and the
   *   simulator, whose instances share one virtual time. Omitted (production),
   *   the database reads its own clock in each statement.
   */
  constructor(
    private readonly storage: Storage,
    private readonly clock?: Clock,
  ) {}

  private get db() {
    return this.storage.db;
  }

  /**
   * The database's "now" in epoch ms and now + ttl, as expressions of one statement: the clock's time
   * as parameters when a clock stands for the database's, else the database's own clock.
   */
  private times(params: LeaseParams): { now: Expression<number>; until: Expression<number> } {
    if (this.clock !== undefined) return { now: sql.val(params.now), until: sql.val(params.until) };
    // statement_timestamp(), not now(): the start of this statement, even inside a longer transaction.
    const now =
      this.storage.engine === 'postgres'
        ? sql<number>`floor(extract(epoch from statement_timestamp()) * 1000)::bigint`
        : sql<number>`cast(unixepoch('subsec') * 1000 as integer)`;
    return { now, until: sql<number>`${now} + ${params.ttl}` };
  }

  /** The parameters of one run: the clock is read once per statement (unused when the database reads its own). */
  private params(job: string, holder: string, ttlMs: number): LeaseParams {
    const now = this.clock?.now() ?? 0;
    return { job, holder, now, until: now + ttlMs, ttl: ttlMs };
  }

  // The heartbeat and every run's lease statements: fixed shapes, compiled once (see PrecompiledQuery).
  private readonly acquireStatement = new PrecompiledQuery(() => this.db, (p: LeaseParams) => {
    const { now, until } = this.times(p);
    return this.db
      .insertInto('job_leases')
      .values({ job: p.job, holder: p.holder, lease_until: until, acquired_at: now, renewed_at: now })
      .onConflict((oc) =>
        oc
          .column('job')
          .doUpdateSet({ holder: p.holder, lease_until: until, acquired_at: now, renewed_at: now })
          .where((eb) => eb.or([eb('job_leases.lease_until', '<=', now), eb('job_leases.holder', '=', p.holder)])),
      )
      .returning('job');
  });

  private readonly renewStatement = new PrecompiledQuery(() => this.db, (p: LeaseParams) => {
    const { now, until } = this.times(p);
    return this.db.updateTable('job_leases').set({ lease_until: until, renewed_at: now }).where('job', '=', p.job).where('holder', '=', p.holder);
  });

  private readonly releaseStatement = new PrecompiledQuery(() => this.db, (p: LeaseParams) =>
    this.db.deleteFrom('job_leases').where('job', '=', p.job).where('holder', '=', p.holder),
  );

  private readonly currentStatement = new PrecompiledQuery(() => this.db, (p: LeaseParams) =>
    this.db.selectFrom('job_leases').selectAll().where('job', '=', p.job).where('lease_until', '>', this.times(p).now),
  );

  private readonly readStatement = new PrecompiledQuery(() => this.db, (p: LeaseParams) => this.db.selectFrom('job_leases').selectAll().where('job', '=', p.job));

  /**
   * Takes the lease for `ttlMs` when it is free, expired, or already
   * `holder`'s; one conditional upsert. Race-safe: under concurrent calls
   * exactly one holder wins a free or expired lease.
   */
  async tryAcquire(job: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.acquireStatement.takeFirst(this.params(job, holder, ttlMs))) !== undefined;
  }

  /**
   * Extends `holder`'s lease to now + ttl, even past its expiry as long as no
   * one else took it. False when the lease is someone else's (lost).
   */
  async renew(job: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.renewStatement.affected(this.params(job, holder, ttlMs))) === 1;
  }

  /** Gives the lease up if `holder` still has it. */
  async release(job: string, holder: string): Promise<void> {
    await this.releaseStatement.execute(this.params(job, holder, 0));
  }

  /** The live lease of `job` now (database time), if any. */
  async current(job: string): Promise<JobLeaseRow | undefined> {
    return this.currentStatement.takeFirst(this.params(job, '', 0));
  }

  /** `job`'s lease row, expired or not, with the database's time of the read: what a caller judges a holder by. */
  async read(job: string): Promise<LeaseReading> {
    if (this.clock !== undefined) {
      const now = this.clock.now();
      return { lease: await this.readStatement.takeFirst(this.params(job, '', 0)), now };
    }
    // One round trip: the clock comes back even when there is no row.
    const result = await sql<{ db_now: number; job: string | null; holder: string | null; lease_until: number | null; acquired_at: number | null; renewed_at: number | null }>`
      select ${this.times(this.params(job, '', 0)).now} as db_now, l.job, l.holder, l.lease_until, l.acquired_at, l.renewed_at
      from (select 1 as one) as o left join job_leases as l on l.job = ${job}`.execute(this.db);
    const row = result.rows[0];
    if (row === undefined) throw new Error('job_leases: the clock read returned no row');
    const now = Number(row.db_now);
    if (row.job === null || row.holder === null || row.lease_until === null || row.acquired_at === null) return { lease: undefined, now };
    return {
      lease: { job: row.job, holder: row.holder, lease_until: Number(row.lease_until), acquired_at: Number(row.acquired_at), renewed_at: row.renewed_at === null ? null : Number(row.renewed_at) },
      now,
    };
  }
}
