import { sql, type Insertable, type RawBuilder, type Selectable } from 'kysely';
import { sessionRevoked } from '../../bus/events.js';
import type { Storage } from '../database.js';
import { noEvents, type EventRecorder } from './bus-outbox.js';
import type { SessionsTable } from '../schema/auth.js';

export type SessionRow = Selectable<SessionsTable>;

/** A session's new idle expiry, `idleUntil` but never past its absolute expiry; portable SQL (no least/min). */
export function idleExpiryCappedAt(idleUntil: number): RawBuilder<number> {
  return sql<number>`case when absolute_expires_at < ${idleUntil} then absolute_expires_at else ${idleUntil} end`;
}

/** Data access for `sessions` (one row per login). */
export class SessionsRepository {
  /** `events`: where session.revoked events go (default none; see src/bus). */
  constructor(
    private readonly storage: Storage,
    private readonly events: EventRecorder = noEvents,
  ) {}

  async insert(row: Insertable<SessionsTable>): Promise<void> {
    await this.storage.db.insertInto('sessions').values(row).execute();
  }

  async findById(id: string): Promise<SessionRow | undefined> {
    return this.storage.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Activity on a live session: moves `last_seen_at` and the idle expiry (never
   * past the absolute one). Ended or expired sessions are left alone.
   */
  async touch(id: string, now: number, idleUntil: number): Promise<void> {
    await this.storage.db
      .updateTable('sessions')
      .set({ last_seen_at: now, idle_expires_at: idleExpiryCappedAt(idleUntil) })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('idle_expires_at', '>', now)
      .where('last_seen_at', '<', now)
      .execute();
  }

  /** Sessions not revoked and within both expiries at `now`. */
  async countLive(now: number): Promise<number> {
    const row = await this.storage.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .where('absolute_expires_at', '>', now)
      .where('idle_expires_at', '>', now)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async listForUser(userId: number): Promise<SessionRow[]> {
    return this.storage.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
  }

  /**
   * Revokes one session, its refresh tokens, and records the revocation for
   * the in-memory views of every instance, in one transaction. Returns false
   * when the session was already revoked (or does not exist): under concurrent
   * calls exactly one caller gets true and writes the revocation row.
   */
  async revoke(id: string, reason: string, now: number, viewExpiresAt: number): Promise<boolean> {
    const done = await this.storage.db.transaction().execute(async (trx) => {
      // Tokens before the session: the same lock order as RefreshTokensRepository.rotate, so no deadlock.
      await trx
        .updateTable('refresh_tokens')
        .set({ revoked_at: now })
        .where('session_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      const revoked = await trx
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning(['user_id'])
        .executeTakeFirst();
      if (!revoked) return false;
      await trx
        .insertInto('session_revocations')
        .values({ session_id: id, user_id: revoked.user_id, recorded_at: now, expires_at: viewExpiresAt })
        .onConflict((oc) => oc.column('session_id').doNothing())
        .execute();
      await this.events.record(trx, [sessionRevoked(id, Number(revoked.user_id), reason)], now);
      return true;
    });
    if (done) this.events.committed();
    return done;
  }

  /**
   * Deletes up to `limit` sessions past their absolute expiry; returns the
   * count. Idle-expired sessions are already unusable (refresh refuses them)
   * and go when their absolute expiry passes: the index on absolute_expires_at
   * serves this, and idle_expires_at stays unindexed so refreshes are cheap.
   */
  async deleteExpired(now: number, limit: number): Promise<number> {
    const ids = this.storage.db.selectFrom('sessions').select('id').where('absolute_expires_at', '<', now).limit(limit);
    const result = await this.storage.db.deleteFrom('sessions').where('id', 'in', ids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
