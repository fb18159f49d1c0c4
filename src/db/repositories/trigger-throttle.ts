import type { Storage } from '../database.js';

/** Counters for the trigger throttle, shared by every instance on the database. */
export class TriggerThrottleRepository {
  constructor(private readonly storage: Storage) {}

  /**
   * Counts one request in the fixed window starting at `windowStart` and
   * returns the window's count including this one. Race-safe: one atomic
   * upsert, so concurrent callers on any instance each see a distinct count.
   */
  async hit(route: string, caller: string, windowStart: number, windowEnd: number): Promise<number> {
    const row = await this.storage.db
      .insertInto('trigger_throttle')
      .values({ route, caller, window_start: windowStart, hits: 1, expires_at: windowEnd })
      .onConflict((oc) =>
        oc.columns(['route', 'caller', 'window_start']).doUpdateSet((eb) => ({ hits: eb('trigger_throttle.hits', '+', 1) })),
      )
      .returning('hits')
      .executeTakeFirstOrThrow();
    return Number(row.hits);
  }

  /** Deletes windows that ended before `now`. */
  async prune(now: number): Promise<number> {
    const result = await this.storage.db.deleteFrom('trigger_throttle').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Rows currently stored (tests and the benchmark count writes with it). */
  async count(): Promise<number> {
    const row = await this.storage.db
      .selectFrom('trigger_throttle')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
