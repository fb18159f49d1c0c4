import type { Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { JobControlsTable } from '../schema/scheduler.js';

export type JobControlRow = Selectable<JobControlsTable>;

/** Data access for `job_controls`: the persisted pause of a job, read by every instance. */
export class JobControlsRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  async find(job: string): Promise<JobControlRow | undefined> {
    return this.db.selectFrom('job_controls').selectAll().where('job', '=', job).executeTakeFirst();
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
