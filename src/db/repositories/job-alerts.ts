import { PrecompiledQuery } from '../compiled-query.js';
import type { Storage } from '../database.js';

/** Open/closed alert episodes per job and kind, shared by every instance. */
export class JobAlertsRepository {
  constructor(private readonly storage: Storage) {}

  // Every check closes every quiet job's episodes: compiled once (see PrecompiledQuery).
  private readonly closeStatement = new PrecompiledQuery(() => this.storage.db, (p: { job: string; kind: string; now: number }) =>
    this.storage.db
      .updateTable('job_alerts')
      .set({ active: 0, changed_at: p.now })
      .where('job', '=', p.job)
      .where('kind', '=', p.kind)
      .where('active', '=', 1),
  );

  /**
   * Opens the episode. Returns true only for the one caller that flipped it
   * from closed to open. Race-safe across instances: a conditional update.
   */
  async open(job: string, kind: string, now: number): Promise<boolean> {
    await this.storage.db
      .insertInto('job_alerts')
      .values({ job, kind, active: 0, changed_at: now })
      .onConflict((oc) => oc.columns(['job', 'kind']).doNothing())
      .execute();
    const result = await this.storage.db
      .updateTable('job_alerts')
      .set({ active: 1, changed_at: now })
      .where('job', '=', job)
      .where('kind', '=', kind)
      .where('active', '=', 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Closes the episode; true only for the one caller that flipped it from open. */
  async close(job: string, kind: string, now: number): Promise<boolean> {
    return (await this.closeStatement.affected({ job, kind, now })) > 0;
  }
}
