import { sql, type RawBuilder } from 'kysely';
import type { Storage } from '../database.js';

export type AttemptScope = 'account' | 'ip';

/**
 * The row that counts a scope's *settled* failures (wrong passwords already
 * checked), next to the reservation counter, which counts attempts still in
 * flight as well. Same table, its own scope name, so no migration.
 */
const settled = (scope: AttemptScope) => `${scope}-failed` as const;
type RowScope = AttemptScope | ReturnType<typeof settled>;

export interface AttemptCounter {
  readonly failures: number;
  readonly windowStartedAt: number;
}

/**
 * When a reservation locks its counter: `afterAttempts` is the attempt (in
 * the window) from which on each reservation sets `locked_until`;
 * `lockMs[i]` is the lock set by attempt `afterAttempts + i` (the last entry
 * repeats for every later attempt); `untilWindowEnd` locks until the window
 * ends instead (the per-IP rule).
 */
export interface ReservationLock {
  readonly afterAttempts: number;
  readonly lockMs: readonly number[];
  readonly untilWindowEnd?: boolean;
  readonly windowMs: number;
}

/** A granted reservation (the counter after it) or a refusal with the lock's end. */
export type Reservation =
  | { readonly granted: true; readonly attempts: number }
  | { readonly granted: false; readonly lockedUntil: number };

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
  async recordFailure(scope: RowScope, key: string, now: number, windowStartedAfter: number): Promise<AttemptCounter> {
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

  /**
   * Reserves one attempt before the password is checked: one atomic upsert
   * that, only while the counter is not locked, counts the attempt and, when
   * it reaches `lock.afterAttempts`, sets the lock in the same statement.
   * Race-safe across instances: under concurrent invocation the row lock
   * (PostgreSQL) or the single writer (SQLite) orders the upserts, each sees
   * the counter and lock its predecessor left, so at most `afterAttempts`
   * reservations are granted before the lock, and one per lock expiry after.
   * A locked counter is not counted (the WHERE of the conflict update fails
   * and no row comes back).
   */
  async reserve(scope: AttemptScope, key: string, now: number, lock: ReservationLock): Promise<Reservation> {
    const windowStartedAfter = now - lock.windowMs;
    const expired = sql<boolean>`login_attempts.window_started_at <= ${windowStartedAfter}`;
    const next = sql<number>`(case when ${expired} then 1 else login_attempts.failures + 1 end)`;
    const windowStart = sql<number>`(case when ${expired} then ${now} else login_attempts.window_started_at end)`;
    const row = await this.storage.db
      .insertInto('login_attempts')
      .values({ scope, key, failures: 1, window_started_at: now, locked_until: lockAfter(1, now, now, lock), updated_at: now })
      .onConflict((oc) =>
        oc
          .columns(['scope', 'key'])
          .doUpdateSet({
            failures: next,
            window_started_at: windowStart,
            locked_until: lockExpression(next, windowStart, now, lock),
            updated_at: now,
          })
          .where('login_attempts.locked_until', '<=', now),
      )
      .returning(['failures'])
      .executeTakeFirst();
    if (row !== undefined) return { granted: true, attempts: Number(row.failures) };
    const { until } = await this.lockedUntil([{ scope, key }]);
    return { granted: false, lockedUntil: until };
  }

  /**
   * Counts one settled failure (a password checked and wrong) in the
   * scope's settled counter; a reservation counts an attempt before its
   * outcome is known, this only after. Returns the settled failures in the window.
   */
  async recordSettledFailure(scope: AttemptScope, key: string, now: number, windowStartedAfter: number): Promise<number> {
    return (await this.recordFailure(settled(scope), key, now, windowStartedAfter)).failures;
  }

  /** Settled failures in the window (0 when none, or when the window has ended). */
  async settledFailures(scope: AttemptScope, key: string, windowStartedAfter: number): Promise<number> {
    const row = await this.storage.db
      .selectFrom('login_attempts')
      .select(['failures', 'window_started_at'])
      .where('scope', '=', settled(scope))
      .where('key', '=', key)
      .executeTakeFirst();
    return row === undefined || Number(row.window_started_at) < windowStartedAfter ? 0 : Number(row.failures);
  }

  /**
   * Gives back one reserved attempt (it succeeded, or another counter refused
   * it before any password check). With `lockAfter` (the counter's
   * ReservationLock.afterAttempts), a lock is lifted when the attempts left
   * fall below it: that lock was set by a reservation that is no failure, and
   * the next reservation to reach the limit sets it again, so no more
   * password checks can fail or be in flight than the limit. Without it the
   * lock, if any, stays.
   */
  async refund(scope: AttemptScope, key: string, now: number, lockAfter?: number): Promise<void> {
    const left = sql<number>`case when failures > 0 then failures - 1 else 0 end`;
    await this.storage.db
      .updateTable('login_attempts')
      .set({
        failures: left,
        ...(lockAfter === undefined ? {} : { locked_until: sql<number>`case when ${left} < ${lockAfter} then ${bigint(0)} else locked_until end` }),
        updated_at: now,
      })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
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

  /** Deletes the scope's counters for the key: reservations, lock and settled failures. */
  async clear(scope: AttemptScope, key: string): Promise<void> {
    await this.storage.db.deleteFrom('login_attempts').where('scope', 'in', [scope, settled(scope)]).where('key', '=', key).execute();
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

/** `locked_until` after attempt number `attempts` (a plain number, for the insert). */
function lockAfter(attempts: number, windowStart: number, now: number, lock: ReservationLock): number {
  if (attempts < lock.afterAttempts) return 0;
  if (lock.untilWindowEnd === true) return windowStart + lock.windowMs;
  const index = Math.min(attempts - lock.afterAttempts, lock.lockMs.length - 1);
  return now + (lock.lockMs[index] ?? 0);
}

/**
 * The same rule as lockAfter() in SQL, over the attempt number the conflict
 * update computes. Kysely cannot build a CASE over a list, so the branches
 * are joined by hand; every value is a bound parameter.
 */
function lockExpression(next: RawBuilder<number>, windowStart: RawBuilder<number>, now: number, lock: ReservationLock): RawBuilder<number> {
  if (lock.untilWindowEnd === true) {
    return sql<number>`(case when ${next} >= ${lock.afterAttempts} then ${windowStart} + ${bigint(lock.windowMs)} else ${bigint(0)} end)`;
  }
  const branches = lock.lockMs.slice(0, -1).map((ms, index) => sql`when ${next} = ${lock.afterAttempts + index} then ${bigint(now + ms)}`);
  const last = now + (lock.lockMs[lock.lockMs.length - 1] ?? 0);
  return sql<number>`(case when ${next} < ${lock.afterAttempts} then ${bigint(0)} ${sql.join(branches, sql` `)} else ${bigint(last)} end)`;
}

/** A parameter typed as bigint: PostgreSQL would otherwise infer integer from the CASE's other branches and overflow. */
function bigint(value: number): RawBuilder<number> {
  return sql<number>`cast(${value} as bigint)`;
}
