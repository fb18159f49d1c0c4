import { sql } from 'kysely';
import type { Storage } from '../database.js';

/** Data access for `account_mail_throttle`: fixed-window request counters shared by every instance. */
export class AccountMailThrottleRepository {
  constructor(private readonly storage: Storage) {}

  /**
   * Counts one request atomically (an upsert, race-safe across instances) and
   * returns the counter after it. A window that started at or before
   * `windowStartedAfter` starts again at 1 from `now`.
   */
  async hit(scope: string, key: string, now: number, windowStartedAfter: number): Promise<{ count: number; windowStartedAt: number }> {
    const row = await this.storage.db
      .insertInto('account_mail_throttle')
      .values({ scope, key, count: 1, window_started_at: now })
      .onConflict((oc) =>
        oc.columns(['scope', 'key']).doUpdateSet({
          count: sql<number>`case when account_mail_throttle.window_started_at <= ${windowStartedAfter} then 1 else account_mail_throttle.count + 1 end`,
          window_started_at: sql<number>`case when account_mail_throttle.window_started_at <= ${windowStartedAfter} then ${now} else account_mail_throttle.window_started_at end`,
        }),
      )
      .returning(['count', 'window_started_at'])
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), windowStartedAt: Number(row.window_started_at) };
  }

  /** Counts counters whose window started before `before` (dry runs). */
  async countStale(before: number): Promise<number> {
    const row = await this.storage.db
      .selectFrom('account_mail_throttle')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('window_started_at', '<', before)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Deletes up to `limit` counters whose window started before `before`; returns the count. */
  async deleteStale(before: number, limit: number): Promise<number> {
    // The key is two columns; the concatenation names a row in one `in` list on both engines.
    const stale = this.storage.db
      .selectFrom('account_mail_throttle')
      .select(sql<string>`scope || ':' || key`.as('k'))
      .where('window_started_at', '<', before)
      .limit(limit);
    const result = await this.storage.db
      .deleteFrom('account_mail_throttle')
      .where(sql<string>`scope || ':' || key`, 'in', stale)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
