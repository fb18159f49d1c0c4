import { sql, type Selectable } from 'kysely';
import { PrecompiledQuery } from '../compiled-query.js';
import type { Storage } from '../database.js';
import type { CronRunsTable } from '../schema/scheduler.js';

export type CronRunRow = Selectable<CronRunsTable>;
type Status = CronRunsTable['status'];

/** A ledger row to insert. */
export interface NewCronRun {
  readonly job: string;
  readonly scheduledFor: number | null;
  readonly trigger: CronRunsTable['trigger'];
  readonly status: Status;
  readonly startedAt: number;
  readonly instanceId: string;
  readonly dryRun: boolean;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly requestId?: string | undefined;
  /** JSON of the run's parameters; omitted when none. */
  readonly params?: string | undefined;
  readonly output?: string | undefined;
  /** For rows inserted already finished (skipped, missed). */
  readonly finishedAt?: number | undefined;
}

/** How a run ended. */
export interface CronRunOutcome {
  readonly status: Exclude<Status, 'running' | 'missed'>;
  readonly finishedAt: number;
  readonly durationMs: number;
  readonly counts: string;
  readonly output: string | null;
  readonly error: string | null;
  /** The whole error (stack, `cause` chain), already redacted and bounded; null when none. */
  readonly errorDetail?: string | null;
}

/** Filters of the run history (all optional); rows come newest first by (started_at, id). */
export interface CronRunFilter {
  readonly job?: string;
  readonly status?: Status;
  readonly trigger?: CronRunsTable['trigger'];
  /** started_at >= from */
  readonly from?: number;
  /** started_at <= to */
  readonly to?: number;
  /** Keyset: only rows strictly older than this (started_at, id). */
  readonly before?: { readonly startedAt: number; readonly id: number };
  readonly limit: number;
}

/** A history row: everything but the whole output and error detail, with the output's head and length. */
export type CronRunListRow = Omit<CronRunRow, 'output' | 'error_detail' | 'caller_ip' | 'user_agent' | 'request_id' | 'params'> & {
  /** The first `headChars` characters of the output. */
  readonly output_head: string | null;
  readonly output_length: number | null;
};

/** One row with a slice of its output. */
export type CronRunDetailRow = Omit<CronRunRow, 'output'> & {
  readonly output_head: string | null;
  readonly output_slice: string | null;
  readonly output_length: number | null;
};

/**
 * `started_at` as an expression no index serves (unary plus, raw SQL: Kysely has no way to say it), so
 * abandonRunning's `started_at <= ?` cannot steer SQLite to the (job, started_at) index. That plan walked
 * every past run of the job on every run (12 ms at 100 000 rows, found by the 30-day simulation); the
 * (job, status) index finds the few `running` rows directly (0.03 ms).
 */
const startedAt = sql<number>`+${sql.ref('started_at')}`;

/** A new row's columns, every one given (null when empty). */
interface RunValues {
  readonly job: string;
  readonly scheduled_for: number | null;
  readonly trigger: CronRunsTable['trigger'];
  readonly status: Status;
  readonly started_at: number;
  readonly finished_at: number | null;
  readonly duration_ms: number | null;
  readonly counts: string;
  readonly output: string | null;
  readonly error: string | null;
  readonly caller_ip: string | null;
  readonly user_agent: string | null;
  readonly request_id: string | null;
  readonly params: string | null;
  readonly instance_id: string;
  readonly dry_run: number;
}

/** Data access for the run ledger `cron_runs`. */
export class CronRunsRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  // Every run's and every decision's statements: fixed shapes, compiled once (see PrecompiledQuery).
  private readonly insertSlotStatement = new PrecompiledQuery(() => this.db, (p: RunValues) =>
    this.db
      .insertInto('cron_runs')
      // Every column named, each value a parameter: one SQL text for every row.
      .values({
        job: p.job,
        scheduled_for: p.scheduled_for,
        trigger: p.trigger,
        status: p.status,
        started_at: p.started_at,
        finished_at: p.finished_at,
        duration_ms: p.duration_ms,
        counts: p.counts,
        output: p.output,
        error: p.error,
        caller_ip: p.caller_ip,
        user_agent: p.user_agent,
        request_id: p.request_id,
        params: p.params,
        instance_id: p.instance_id,
        dry_run: p.dry_run,
      })
      .onConflict((oc) => oc.columns(['job', 'scheduled_for']).doNothing())
      .returning('id'),
  );

  private readonly finishStatement = new PrecompiledQuery(() => this.db, (p: CronRunOutcome & { id: number; errorDetail: string | null }) =>
    this.db
      .updateTable('cron_runs')
      .set({ status: p.status, finished_at: p.finishedAt, duration_ms: p.durationMs, counts: p.counts, output: p.output, error: p.error, error_detail: p.errorDetail })
      .where('id', '=', p.id)
      .where('status', '=', 'running'),
  );

  /** abandonRunning's two shapes: without a holder (stale rows only) and with one. */
  private abandonStatement(withHolder: boolean) {
    return new PrecompiledQuery(() => this.db, (p: { job: string; holder: string; exceptId: number; now: number; staleBefore: number; error: string }) =>
      this.db
        .updateTable('cron_runs')
        .set((eb) => ({ status: 'failed', finished_at: p.now, duration_ms: eb(eb.val(p.now), '-', eb.ref('started_at')), error: p.error }))
        .where('job', '=', p.job)
        .where('status', '=', 'running')
        .where('id', '!=', p.exceptId)
        .where((eb) => (withHolder ? eb.or([eb('instance_id', '=', p.holder), eb(startedAt, '<=', p.staleBefore)]) : eb(startedAt, '<=', p.staleBefore))),
    );
  }

  private readonly abandonStale = this.abandonStatement(false);
  private readonly abandonHolder = this.abandonStatement(true);

  private readonly lastSlotStatement = new PrecompiledQuery(() => this.db, (p: { job: string }) =>
    this.db
      .selectFrom('cron_runs')
      .select((eb) => eb.fn.max('scheduled_for').as('slot'))
      .where('job', '=', p.job),
  );

  private readonly lastRunStatement = new PrecompiledQuery(() => this.db, (p: { job: string }) =>
    this.db.selectFrom('cron_runs').selectAll().where('job', '=', p.job).where('status', '!=', 'missed').orderBy('id', 'desc').limit(1),
  );

  private readonly lastSuccessStatement = new PrecompiledQuery(() => this.db, (p: { job: string }) =>
    this.db.selectFrom('cron_runs').selectAll().where('job', '=', p.job).where('status', '=', 'ok').where('dry_run', '=', 0).orderBy('id', 'desc').limit(1),
  );

  /**
   * Finished real runs newer than the latest real `ok` one, at most `limit`. Counted in the database
   * (it once read the latest `limit` statuses of every job on every status check to find the first `ok`).
   */
  private readonly failureStreakStatement = new PrecompiledQuery(() => this.db, (p: { job: string; limit: number }) =>
    this.db
      .selectFrom((eb) =>
        eb
          .selectFrom('cron_runs')
          .select('id')
          .where('job', '=', p.job)
          .where('status', 'in', ['failed', 'timed_out'])
          .where('dry_run', '=', 0)
          .where('id', '>', (inner) =>
            inner.fn.coalesce(
              inner.selectFrom('cron_runs').select('id').where('job', '=', p.job).where('status', '=', 'ok').where('dry_run', '=', 0).orderBy('id', 'desc').limit(1),
              inner.lit(0),
            ),
          )
          .limit(p.limit)
          .as('streak'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n')),
  );

  private readonly firstStartedAtStatement = new PrecompiledQuery(() => this.db, (p: { job: string }) =>
    this.db.selectFrom('cron_runs').select('started_at').where('job', '=', p.job).orderBy('id', 'asc').limit(1),
  );

  private values(run: NewCronRun): RunValues {
    return {
      job: run.job,
      scheduled_for: run.scheduledFor,
      trigger: run.trigger,
      status: run.status,
      started_at: run.startedAt,
      finished_at: run.finishedAt ?? null,
      duration_ms: run.finishedAt === undefined ? null : run.finishedAt - run.startedAt,
      counts: '{}',
      output: run.output ?? null,
      error: null,
      caller_ip: run.ip ?? null,
      user_agent: run.userAgent ?? null,
      request_id: run.requestId ?? null,
      params: run.params ?? null,
      instance_id: run.instanceId,
      dry_run: run.dryRun ? 1 : 0,
    };
  }

  /**
   * Records a slot: inserts the row unless (job, scheduled_for) exists.
   * Race-safe: under concurrent calls for one slot, exactly one caller gets an
   * id (and so runs the slot); the others get undefined.
   */
  async insertSlot(run: NewCronRun & { scheduledFor: number }): Promise<number | undefined> {
    const row = await this.insertSlotStatement.takeFirst(this.values(run));
    return row?.id;
  }

  /** Inserts an ad-hoc row (null slot never conflicts). */
  async insert(run: NewCronRun): Promise<number> {
    const row = await this.db.insertInto('cron_runs').values(this.values(run)).returning('id').executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * Records `missed` slots (idempotent per slot) with `reason` in `output`
   * (e.g. `catch-up`, `dst-gap`); returns how many were new.
   */
  async insertMissed(job: string, slots: readonly number[], now: number, instanceId: string, trigger: CronRunsTable['trigger'], reason?: string): Promise<number> {
    if (slots.length === 0) return 0;
    let inserted = 0;
    // Bounded batches keep one statement's parameter count small on SQLite.
    for (let i = 0; i < slots.length; i += 100) {
      const rows = await this.db
        .insertInto('cron_runs')
        .values(
          slots.slice(i, i + 100).map((slot) => ({
            ...this.values({ job, scheduledFor: slot, trigger, status: 'missed', startedAt: now, finishedAt: now, instanceId, dryRun: false, output: reason }),
            duration_ms: 0,
          })),
        )
        .onConflict((oc) => oc.columns(['job', 'scheduled_for']).doNothing())
        .returning('id')
        .execute();
      inserted += rows.length;
    }
    return inserted;
  }

  /** Stores progress while running. */
  async updateCounts(id: number, counts: string): Promise<void> {
    await this.db.updateTable('cron_runs').set({ counts }).where('id', '=', id).where('status', '=', 'running').execute();
  }

  /**
   * Finishes a running row. Returns false when the row is no longer running
   * (another instance marked it abandoned after taking the lease over).
   */
  async finish(id: number, outcome: CronRunOutcome): Promise<boolean> {
    return (await this.finishStatement.affected({ ...outcome, id, errorDetail: outcome.errorDetail ?? null })) === 1;
  }

  /**
   * Marks dead `running` rows of `job` as failed with `error`: those of
   * `holder` (whose expired lease the caller just took over) and those of any
   * instance started at or before `staleBefore` (it died before it held the
   * lease). Call only while holding the job's lease; `exceptId` is the
   * caller's own row. The ledger then never shows a dead run as running or ok.
   */
  async abandonRunning(job: string, holder: string | undefined, exceptId: number, now: number, staleBefore: number, error: string): Promise<number> {
    const statement = holder === undefined ? this.abandonStale : this.abandonHolder;
    return statement.affected({ job, holder: holder ?? '', exceptId, now, staleBefore, error });
  }

  /** The most recent recorded slot of `job` (any status), or null. */
  async lastSlot(job: string): Promise<number | null> {
    const row = await this.lastSlotStatement.takeFirst({ job });
    return row?.slot === undefined || row.slot === null ? null : Number(row.slot);
  }

  async findById(id: number): Promise<CronRunRow | undefined> {
    return this.db.selectFrom('cron_runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The latest row of `job` that is a run (not a `missed` marker). */
  async lastRun(job: string): Promise<CronRunRow | undefined> {
    return this.lastRunStatement.takeFirst({ job });
  }

  /** The latest real (non-dry) successful run of `job`. */
  async lastSuccess(job: string): Promise<CronRunRow | undefined> {
    return this.lastSuccessStatement.takeFirst({ job });
  }

  /**
   * How many of the latest finished real runs of `job` (`ok`, `failed`, `timed_out`; no dry runs)
   * failed since its latest `ok`, at most `limit`: the consecutive failures status() shows.
   */
  async failureStreak(job: string, limit: number): Promise<number> {
    const row = await this.failureStreakStatement.takeFirst({ job, limit });
    return Number(row?.n ?? 0);
  }

  /** When `job` was first recorded, or undefined. */
  async firstStartedAt(job: string): Promise<number | undefined> {
    const row = await this.firstStartedAtStatement.takeFirst({ job });
    return row?.started_at;
  }

  /**
   * The run history, newest first by (started_at, id), filtered and
   * keyset-paged. Served by cron_runs_job_started_idx (job given) or
   * cron_runs_started_at_idx. Reads only the first `headChars` of each output.
   */
  async list(filter: CronRunFilter, headChars: number): Promise<CronRunListRow[]> {
    let query = this.db
      .selectFrom('cron_runs')
      .select(['id', 'job', 'scheduled_for', 'trigger', 'status', 'started_at', 'finished_at', 'duration_ms', 'counts', 'error', 'instance_id', 'dry_run'])
      .select((eb) => [eb.fn<string | null>('substr', ['output', eb.lit(1), eb.lit(headChars)]).as('output_head'), eb.fn<number | null>('length', ['output']).as('output_length')]);
    if (filter.job !== undefined) query = query.where('job', '=', filter.job);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.trigger !== undefined) query = query.where('trigger', '=', filter.trigger);
    if (filter.from !== undefined) query = query.where('started_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('started_at', '<=', filter.to);
    const before = filter.before;
    if (before !== undefined) {
      query = query.where((eb) => eb.or([eb('started_at', '<', before.startedAt), eb.and([eb('started_at', '=', before.startedAt), eb('id', '<', before.id)])]));
    }
    return query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  }

  /** One row with `limit` characters of its output from `offset` (0-based), its first `headChars`, and its length. */
  async findDetail(id: number, offset: number, limit: number, headChars: number): Promise<CronRunDetailRow | undefined> {
    return this.db
      .selectFrom('cron_runs')
      .select(['id', 'job', 'scheduled_for', 'trigger', 'status', 'started_at', 'finished_at', 'duration_ms', 'counts', 'error', 'error_detail', 'caller_ip', 'user_agent', 'request_id', 'params', 'instance_id', 'dry_run'])
      .select((eb) => [
        eb.fn<string | null>('substr', ['output', eb.lit(1), eb.lit(headChars)]).as('output_head'),
        eb.fn<string | null>('substr', ['output', eb.lit(offset + 1), eb.lit(limit)]).as('output_slice'),
        eb.fn<number | null>('length', ['output']).as('output_length'),
      ])
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** The newest row that a trigger fired for real: not a dry run, not a `missed` marker (the overview's "last cron run"). */
  async lastFired(): Promise<CronRunRow | undefined> {
    return this.db
      .selectFrom('cron_runs')
      .selectAll()
      .where('dry_run', '=', 0)
      .where('status', '!=', 'missed')
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** `missed` rows recorded since `since` (the overview's backlog of jobs' missed slots). */
  async countMissedSince(since: number): Promise<number> {
    const row = await this.db
      .selectFrom('cron_runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'missed')
      .where('started_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Rows of `job`, newest first (tests and the CLI). */
  async listByJob(job: string, limit = 100): Promise<CronRunRow[]> {
    return this.db.selectFrom('cron_runs').selectAll().where('job', '=', job).orderBy('id', 'desc').limit(limit).execute();
  }

  /**
   * Deletes up to `batchSize` rows started before `cutoff`; returns how many.
   * Callers loop until it returns less than `batchSize`, so no statement holds
   * a long lock.
   */
  async deleteOlderThan(cutoff: number, batchSize: number): Promise<number> {
    const result = await this.db
      .deleteFrom('cron_runs')
      .where('id', 'in', (qb) => qb.selectFrom('cron_runs').select('id').where('started_at', '<', cutoff).orderBy('id').limit(batchSize))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** How many rows started before `cutoff` (dry runs of the pruning job). */
  async countOlderThan(cutoff: number): Promise<number> {
    const row = await this.db
      .selectFrom('cron_runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('started_at', '<', cutoff)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
