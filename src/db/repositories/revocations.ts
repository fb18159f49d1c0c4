import { sessionsRevokedAll, userLoggedOutEverywhere } from '../../bus/events.js';
import type { Storage } from '../database.js';
import { noEvents, type EventRecorder } from './bus-outbox.js';

export interface RevokedSessionEntry {
  readonly sessionId: string;
  readonly expiresAt: number;
}

export interface RevocationMarkEntry {
  /** Null for the global mark. */
  readonly userId: number | null;
  readonly notBefore: number;
  /**
   * `exempt` (subject `exempt:<id>`): global marks up to `notBefore` do not
   * apply to this user (logout-all-users with exclusions); absent for the others.
   */
  readonly exempt?: boolean;
}

/**
 * Data access for the revocation view's sources: `session_revocations`
 * (written by SessionsRepository.revoke) and `revocation_marks` (global and
 * per-user not-before times).
 */
export class RevocationsRepository {
  /** `events`: where logged_out_everywhere / revoked_all events go (default none; see src/bus). */
  constructor(
    private readonly storage: Storage,
    private readonly events: EventRecorder = noEvents,
  ) {}

  /** Session revocations recorded at or after `since` that still matter at `now`. */
  async sessionsRecordedSince(since: number, now: number): Promise<RevokedSessionEntry[]> {
    const rows = await this.storage.db
      .selectFrom('session_revocations')
      .select(['session_id', 'expires_at'])
      .where('recorded_at', '>=', since)
      .where('expires_at', '>', now)
      .execute();
    return rows.map((row) => ({ sessionId: row.session_id, expiresAt: row.expires_at }));
  }

  /** Not-before marks recorded at or after `since` whose time is after `relevantAfter`. */
  async marksRecordedSince(since: number, relevantAfter: number): Promise<RevocationMarkEntry[]> {
    const rows = await this.storage.db
      .selectFrom('revocation_marks')
      .select(['subject', 'user_id', 'not_before'])
      .where('recorded_at', '>=', since)
      .where('not_before', '>', relevantAfter)
      .execute();
    return rows.map((row) =>
      row.subject.startsWith('exempt:')
        ? { userId: row.user_id, notBefore: row.not_before, exempt: true }
        : { userId: row.user_id, notBefore: row.not_before },
    );
  }

  /**
   * Sets a not-before mark (`userId` null: global). Marks only move forward:
   * an older time never replaces a newer one, whatever the order of calls.
   */
  async setNotBefore(userId: number | null, notBefore: number, now: number): Promise<void> {
    const subject = userId === null ? 'global' : `user:${userId}`;
    const recorded = await this.storage.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('revocation_marks')
        .values({ subject, user_id: userId, not_before: notBefore, recorded_at: now })
        .onConflict((oc) =>
          oc.column('subject').doUpdateSet({ not_before: notBefore, recorded_at: now }).where('revocation_marks.not_before', '<', notBefore),
        )
        .execute();
      const event = userId === null ? sessionsRevokedAll(notBefore, [], []) : userLoggedOutEverywhere(userId, notBefore);
      return this.events.record(trx, [event], now);
    });
    this.events.committed(recorded);
  }

  /** The not-before time for a user (the later of global and per-user), or 0. */
  async notBeforeFor(userId: number): Promise<number> {
    const rows = await this.storage.db
      .selectFrom('revocation_marks')
      .select('not_before')
      .select('subject')
      .where('subject', 'in', ['global', `user:${userId}`, `exempt:${userId}`])
      .execute();
    const mark = (subject: string) => rows.find((row) => row.subject === subject)?.not_before ?? 0;
    const global = mark('global') > mark(`exempt:${userId}`) ? mark('global') : 0;
    return Math.max(global, mark(`user:${userId}`));
  }

  /** Deletes up to `limit` session revocations whose tokens have all expired; returns the count. */
  async deleteExpired(now: number, limit: number): Promise<number> {
    const ids = this.storage.db.selectFrom('session_revocations').select('session_id').where('expires_at', '<', now).limit(limit);
    const result = await this.storage.db.deleteFrom('session_revocations').where('session_id', 'in', ids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
