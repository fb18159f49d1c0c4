import { sql, type Selectable } from 'kysely';
import { sessionsRevokedAll } from '../../bus/events.js';
import type { Storage } from '../database.js';
import { noEvents, type EventRecorder } from './bus-outbox.js';
import { inBatch } from '../in-batch.js';
import type { MaintenanceSweepsTable } from '../schema/maintenance.js';

export type SweepRow = Selectable<MaintenanceSweepsTable>;

/** Tables the flush job deletes from by expiry, with their primary key. */
export type ExpiringTable = 'refresh_tokens' | 'session_revocations';
const KEY: Record<ExpiringTable, string> = { refresh_tokens: 'token_hash', session_revocations: 'session_id' };

export interface ExpiredBatch {
  readonly deleted: number;
  /** Where the next batch starts (keyset on expires_at, skipping dead index entries); undefined when done. */
  readonly next: number | undefined;
}

/** A window of the sessions primary key: ids in (after, upTo]; upTo undefined means to the end. */
export interface SessionWindow {
  readonly after: string;
  readonly upTo: string | undefined;
}

export interface TableHealth {
  readonly rows: number;
  readonly expired: number;
  /** The oldest expiry among expired rows (epoch ms), or null. */
  readonly oldestExpiredAt: number | null;
}

const toNumber = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

/**
 * The maintenance jobs' SQL (src/maintenance). Every statement touches at most
 * one batch of rows and is served by an index; docs/maintenance.md has the plans.
 */
export class MaintenanceRepository {
  /** `events`: where the logout-all-users event goes (default none; see src/bus). */
  constructor(
    private readonly storage: Storage,
    private readonly events: EventRecorder = noEvents,
  ) {}

  private get db() {
    return this.storage.db;
  }

  /**
   * Deletes about `limit` rows with `from <= expires_at < cutoff`, lowest
   * expiry first. SQLite: `DELETE ... WHERE key IN (SELECT key ... ORDER BY
   * expires_at LIMIT n)`. PostgreSQL: the batch is an expiry range whose end
   * is the (n+1)-th expiry (an index-only scan), deleted by the expiry index
   * in heap order; about 3x the rows/s of deleting by primary key
   * (bench/RESULTS.md). Rows sharing the end expiry go to the next batch.
   */
  async deleteExpired(table: ExpiringTable, cutoff: number, from: number, limit: number): Promise<ExpiredBatch> {
    const target = sql.table(table);
    if (this.storage.engine === 'postgres') {
      const bound = await sql<{ expires_at: string }>`
        select expires_at from ${target} where expires_at >= ${from} and expires_at < ${cutoff}
        order by expires_at offset ${limit} limit 1`.execute(this.db);
      const end = bound.rows[0] === undefined ? cutoff : Number(bound.rows[0].expires_at);
      // More than `limit` rows expire in the same millisecond: take that millisecond whole.
      const upTo = end > from ? end : from + 1;
      const result = await sql`delete from ${target} where expires_at >= ${from} and expires_at < ${upTo}`.execute(this.db);
      return { deleted: Number(result.numAffectedRows ?? 0n), next: upTo < cutoff ? upTo : undefined };
    }
    const key = sql.ref(KEY[table]);
    const pick = sql`select ${key} from ${target} where expires_at >= ${from} and expires_at < ${cutoff} order by expires_at limit ${limit}`;
    const result = await sql<{ expires_at: number }>`delete from ${target} where ${key} in (${pick}) returning expires_at`.execute(this.db);
    let last = from;
    for (const row of result.rows) last = Math.max(last, row.expires_at);
    return { deleted: result.rows.length, next: result.rows.length === limit ? last : undefined };
  }

  /**
   * Per-user not-before marks (`user:<id>`, `exempt:<id>`) recorded before
   * `cutoff`; the global mark is never counted. Served by revocation_marks_recorded_idx.
   */
  async countStaleMarks(cutoff: number): Promise<number> {
    const row = await this.db
      .selectFrom('revocation_marks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('recorded_at', '<', cutoff)
      .where('subject', '<>', 'global')
      .executeTakeFirst();
    return toNumber(row?.n);
  }

  /** Deletes up to `limit` of the marks countStaleMarks counts, oldest first; returns the count. */
  async deleteStaleMarks(cutoff: number, limit: number): Promise<number> {
    const stale = this.db
      .selectFrom('revocation_marks')
      .select('subject')
      .where('recorded_at', '<', cutoff)
      .where('subject', '<>', 'global')
      .orderBy('recorded_at')
      .limit(limit);
    const result = await this.db.deleteFrom('revocation_marks').where(inBatch(this.storage.engine, 'subject', stale)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Rows with expires_at < cutoff (dry run and progress totals); an index range count. */
  async countExpired(table: ExpiringTable, cutoff: number): Promise<number> {
    const row = await this.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('expires_at', '<', cutoff).executeTakeFirst();
    return toNumber(row?.n);
  }

  /** The next window of at most `size` session ids after `after` ('' = the start), by the primary key. */
  async sessionWindow(after: string, size: number): Promise<SessionWindow> {
    const row = await this.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '>', after)
      .orderBy('id')
      .limit(1)
      .offset(size - 1)
      .executeTakeFirst();
    return { after, upTo: row?.id };
  }

  private inWindow(window: SessionWindow) {
    let query = this.db.selectFrom('sessions').where('id', '>', window.after);
    if (window.upTo !== undefined) query = query.where('id', '<=', window.upTo);
    return query;
  }

  /**
   * Deletes the window's sessions that ended: past idle or absolute expiry, or
   * revoked before `revokedBefore`. Their refresh tokens go by ON DELETE CASCADE.
   */
  async deleteEndedSessions(window: SessionWindow, now: number, revokedBefore: number, dryRun = false): Promise<number> {
    const ended = this.inWindow(window)
      .select('id')
      .where((eb) => eb.or([eb('absolute_expires_at', '<=', now), eb('idle_expires_at', '<=', now), eb('revoked_at', '<', revokedBefore)]));
    if (dryRun) {
      const row = await this.db.selectFrom(ended.as('ended')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      return toNumber(row?.n);
    }
    const result = await this.db.deleteFrom('sessions').where(inBatch(this.storage.engine, 'id', ended)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Revokes the window's live sessions created at or before `notAfter`,
   * sparing `excludedUserIds`. With dryRun, counts them instead.
   */
  async revokeLiveSessions(
    window: SessionWindow,
    request: { now: number; notAfter: number; excludedUserIds: readonly number[]; reason: string; dryRun: boolean },
  ): Promise<number> {
    const { now, notAfter, excludedUserIds } = request;
    const live = this.inWindow(window)
      .select('id')
      .where('revoked_at', 'is', null)
      .where('created_at', '<=', notAfter)
      .where('idle_expires_at', '>', now)
      .where('absolute_expires_at', '>', now)
      .$if(excludedUserIds.length > 0, (qb) => qb.where('user_id', 'not in', excludedUserIds));
    if (request.dryRun) {
      const row = await this.db.selectFrom(live.as('live')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      return toNumber(row?.n);
    }
    const result = await this.db
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: request.reason })
      .where(inBatch(this.storage.engine, 'id', live))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Sessions (all rows), for progress totals. */
  async countSessions(): Promise<number> {
    const row = await this.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return toNumber(row?.n);
  }

  /** Ids of users with one of `roles` or one of `emails` (already lower-case). */
  async userIdsMatching(roles: readonly string[], emails: readonly string[]): Promise<number[]> {
    if (roles.length === 0 && emails.length === 0) return [];
    const rows = await this.db
      .selectFrom('users')
      .select('id')
      .where((eb) => {
        const any = [];
        const known = roles.filter((role): role is 'user' | 'admin' => role === 'user' || role === 'admin');
        if (known.length > 0) any.push(eb('role', 'in', known));
        if (emails.length > 0) any.push(eb('email', 'in', [...emails]));
        return any.length > 0 ? eb.or(any) : sql<boolean>`1 = 0`;
      })
      .execute();
    return rows.map((row) => Number(row.id));
  }

  /**
   * The not-before marks of a logout of everyone at `notBefore`, in one
   * transaction so no instance's view sees the global mark without the
   * exemptions: each excluded user gets `exempt:<id>` = notBefore and a
   * per-user mark carrying the previous global mark (which still applies to them).
   * One `sessions.revoked_all` event goes with them (`excludedRoles` is
   * reported in it), however many sessions there are.
   */
  async markEveryoneLoggedOut(notBefore: number, excludedUserIds: readonly number[], now: number, excludedRoles: readonly string[] = []): Promise<void> {
    const recorded = await this.db.transaction().execute(async (trx) => {
      const previous = await trx.selectFrom('revocation_marks').select('not_before').where('subject', '=', 'global').executeTakeFirst();
      const upsert = (subject: string, userId: number | null, value: number) =>
        trx
          .insertInto('revocation_marks')
          .values({ subject, user_id: userId, not_before: value, recorded_at: now })
          .onConflict((oc) => oc.column('subject').doUpdateSet({ not_before: value, recorded_at: now }).where('revocation_marks.not_before', '<', value))
          .execute();
      for (const userId of excludedUserIds) {
        if (previous) await upsert(`user:${userId}`, userId, previous.not_before);
        await upsert(`exempt:${userId}`, userId, notBefore);
      }
      await upsert('global', null, notBefore);
      return this.events.record(trx, [sessionsRevokedAll(notBefore, excludedRoles, excludedUserIds)], now);
    });
    this.events.committed(recorded);
  }

  /** Marks one user's live sessions revoked (admin logout); returns how many. */
  async revokeUserSessions(userId: number, now: number, reason: string): Promise<number> {
    const result = await this.db
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('created_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Records a table's latest sweep (one row per table). */
  async recordSweep(row: SweepRow): Promise<void> {
    const { table_name: _key, ...rest } = row;
    await this.db
      .insertInto('maintenance_sweeps')
      .values(row)
      .onConflict((oc) => oc.column('table_name').doUpdateSet(rest))
      .execute();
  }

  async sweeps(): Promise<SweepRow[]> {
    const rows = await this.db.selectFrom('maintenance_sweeps').selectAll().orderBy('table_name').execute();
    return rows.map((row) => ({ ...row, started_at: Number(row.started_at), finished_at: Number(row.finished_at), duration_ms: Number(row.duration_ms), rows: Number(row.rows) }));
  }

  /** Row count, expired count and oldest expiry of a table with `expires_at`. */
  async expiringHealth(table: ExpiringTable, now: number): Promise<TableHealth> {
    const row = await this.db
      .selectFrom(table)
      .select((eb) => [
        eb.fn.countAll<number>().as('rows'),
        eb.fn.sum<number>(eb.case().when('expires_at', '<=', now).then(1).else(0).end()).as('expired'),
        eb.fn.min<number>(eb.case().when('expires_at', '<=', now).then(eb.ref('expires_at')).end()).as('oldest'),
      ])
      .executeTakeFirst();
    return { rows: toNumber(row?.rows), expired: toNumber(row?.expired), oldestExpiredAt: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest) };
  }

  /** The same for sessions: ended = past idle or absolute expiry, or revoked. */
  async sessionsHealth(now: number): Promise<TableHealth> {
    const row = await this.db
      .selectFrom('sessions')
      .select((eb) => {
        const ended = eb.or([eb('idle_expires_at', '<=', now), eb('revoked_at', 'is not', null)]);
        return [
          eb.fn.countAll<number>().as('rows'),
          eb.fn.sum<number>(eb.case().when(ended).then(1).else(0).end()).as('expired'),
          eb.fn.min<number>(eb.case().when('idle_expires_at', '<=', now).then(eb.ref('idle_expires_at')).end()).as('oldest'),
        ];
      })
      .executeTakeFirst();
    return { rows: toNumber(row?.rows), expired: toNumber(row?.expired), oldestExpiredAt: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest) };
  }
}
