import { sql } from 'kysely';
import type { Storage } from '../database.js';

export type AttemptScope = 'account' | 'ip';

export interface AttemptCounter {
  readonly failures: number;
  readonly windowStartedAt: number;
}

/** Data access for `login_attempts`: failed-login counters shared by every instance. */
export class LoginAttemptsRepository {
  constructor(private readonly storage: Storage) {}

  /** The latest `locked_until` among the given counters, or 0. */
  async lockedUntil(keys: ReadonlyArray<{ scope: AttemptScope; key: string }>): Promise<{ until: number; exists: boolean }> {
    const rows = await this.storage.db
      .selectFrom('login_attempts')
      .select(['locked_until'])
      .where((eb) => eb.or(keys.map(({ scope, key }) => eb.and([eb('scope', '=', scope), eb('key', '=', key)]))))
      .execute();
    return { until: rows.reduce((max, row) => Math.max(max, row.locked_until), 0), exists: rows.length > 0 };
  }

  /**
   * Counts one failure atomically (an upsert, race-safe across instances) and
   * returns the counter after it. A counter whose window started before
   * `windowStartedAfter` starts again at 1.
   */
  async recordFailure(scope: AttemptScope, key: string, now: number, windowStartedAfter: number): Promise<AttemptCounter> {
    const row = await this.storage.db
      .insertInto('login_attempts')
      .values({ scope, key, failures: 1, window_started_at: now, locked_until: 0, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['scope', 'key']).doUpdateSet({
          failures: sql<number>`case when login_attempts.window_started_at < ${windowStartedAfter} then 1 else login_attempts.failures + 1 end`,
          window_started_at: sql<number>`case when login_attempts.window_started_at < ${windowStartedAfter} then ${now} else login_attempts.window_started_at end`,
          updated_at: now,
        }),
      )
      .returning(['failures', 'window_started_at'])
      .executeTakeFirstOrThrow();
    return { failures: row.failures, windowStartedAt: row.window_started_at };
  }

  /** Moves `locked_until` forward (never back). */
  async lock(scope: AttemptScope, key: string, until: number): Promise<void> {
    await this.storage.db
      .updateTable('login_attempts')
      .set({ locked_until: until })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('locked_until', '<', until)
      .execute();
  }

  async clear(scope: AttemptScope, key: string): Promise<void> {
    await this.storage.db.deleteFrom('login_attempts').where('scope', '=', scope).where('key', '=', key).execute();
  }

  /** Deletes up to `limit` counters untouched since `before`; returns the count. */
  async deleteStale(before: number, limit: number): Promise<number> {
    const stale = this.storage.db
      .selectFrom('login_attempts')
      .select(sql<string>`scope || ':' || key`.as('k'))
      .where('updated_at', '<', before)
      .where('locked_until', '<', before)
      .limit(limit);
    const result = await this.storage.db
      .deleteFrom('login_attempts')
      .where(sql<string>`scope || ':' || key`, 'in', stale)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
