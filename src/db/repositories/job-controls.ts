import { sql, type Selectable } from 'kysely';
import { PrecompiledQuery } from '../compiled-query.js';
import type { Storage } from '../database.js';
import type { JobControlsTable } from '../schema/scheduler.js';

export type JobControlRow = Selectable<JobControlsTable>;

/** Data access for `job_controls`: the persisted pause of a job, read by every instance. */
export class JobControlsRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  // Read by every scheduling decision: compiled once (see PrecompiledQuery).
  private readonly findStatement = new PrecompiledQuery(() => this.db, (p: { job: string }) => this.db.selectFrom('job_controls').selectAll().where('job', '=', p.job));

  /**
   * A decision's two reads in one statement: the ledger's last recorded slot of `job`
   * (max `cron_runs.scheduled_for`, null when none) and `job`'s control row (undefined when never paused).
   */
  private readonly decisionStatement = new PrecompiledQuery(() => this.db, (p: { job: string }) =>
    this.db
      // One row even when the job has no control row: the slot comes back either way.
      .selectFrom(this.db.selectNoFrom(sql<number>`1`.as('one')).as('o'))
      .leftJoin('job_controls', (join) => join.on('job_controls.job', '=', p.job))
      .selectAll('job_controls')
      .select((eb) => eb.selectFrom('cron_runs').select((qb) => qb.fn.max('scheduled_for').as('slot')).where('cron_runs.job', '=', p.job).as('last_slot')),
  );

  async find(job: string): Promise<JobControlRow | undefined> {
    return this.findStatement.takeFirst({ job });
  }

  /** What a scheduling decision reads (see decisionStatement), in one round trip instead of two. */
  async findWithLastSlot(job: string): Promise<{ control: JobControlRow | undefined; lastSlot: number | null }> {
    const row = await this.decisionStatement.takeFirst({ job });
    if (row === undefined) throw new Error('job_controls: the decision read returned no row');
    const lastSlot = row.last_slot === null || row.last_slot === undefined ? null : Number(row.last_slot);
    if (row.job === null || row.paused === null) return { control: undefined, lastSlot };
    const control: JobControlRow = {
      job: row.job,
      paused: row.paused,
      paused_at: row.paused_at,
      paused_by: row.paused_by,
      reason: row.reason,
      resumed_at: row.resumed_at,
      resumed_by: row.resumed_by,
    };
    return { control, lastSlot };
  }

  async all(): Promise<JobControlRow[]> {
    return this.db.selectFrom('job_controls').selectAll().execute();
  }

  /**
   * Pauses `job` unless it is paused already (the first pause, its time, author
   * and reason stand). One conditional upsert: race-safe, concurrent pauses
   * leave exactly one author.
   */
  async pause(job: string, at: number, by: string, reason: string | null): Promise<void> {
    await this.db
      .insertInto('job_controls')
      .values({ job, paused: 1, paused_at: at, paused_by: by, reason, resumed_at: null, resumed_by: null })
      .onConflict((oc) => oc.column('job').doUpdateSet({ paused: 1, paused_at: at, paused_by: by, reason }).where('job_controls.paused', '=', 0))
      .execute();
  }

  /** Resumes `job` if it is paused (else changes nothing), recording when and by whom. */
  async resume(job: string, at: number, by: string): Promise<void> {
    await this.db.updateTable('job_controls').set({ paused: 0, resumed_at: at, resumed_by: by }).where('job', '=', job).where('paused', '=', 1).execute();
  }
}
