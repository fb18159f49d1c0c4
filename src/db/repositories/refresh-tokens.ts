import type { Kysely, Selectable } from 'kysely';
import type { Database, Storage } from '../database.js';
import type { RefreshTokensTable } from '../schema/auth.js';
import { idleExpiryCappedAt, type SessionRow } from './sessions.js';
import type { UserRow } from './users.js';

export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export interface RotateRequest {
  /** SHA-256 hash of the presented token. */
  readonly tokenHash: string;
  /** SHA-256 hash of its deterministic successor. */
  readonly successorHash: string;
  readonly now: number;
  /** How long after rotation the old token still yields the same successor. */
  readonly graceMs: number;
  /** Lifetime of the successor (capped at the session's absolute expiry). */
  readonly refreshTtlMs: number;
  /** Idle lifetime the session is extended by (capped at its absolute expiry). */
  readonly idleMs: number;
}

export type RotateOutcome =
  /**
   * This caller rotated the token; the successor row exists and the session
   * was touched. On PostgreSQL the same statement also reads the session's
   * user (undefined if the row is gone), saving the caller a round-trip.
   */
  | { readonly kind: 'rotated'; readonly session: SessionRow; readonly user?: UserRow | undefined }
  /** Already rotated within the grace: hand out the same successor again. */
  | { readonly kind: 'successor'; readonly session: SessionRow }
  /** Already rotated longer ago than the grace: treat as theft. */
  | { readonly kind: 'reused'; readonly sessionId: string }
  /** The token's session is revoked or past its idle/absolute expiry, or the token expired. */
  | { readonly kind: 'session-ended'; readonly sessionId: string }
  /** Unknown, expired or revoked token. */
  | { readonly kind: 'invalid' };

/**
 * PostgreSQL: the winning path of rotate() as one statement (data-modifying
 * CTEs): rotate the presented token, touch its live session, insert the
 * successor, and read the session's user. $1 now, $2 the presented token's
 * hash, $3 the new idle expiry, $4 the successor's hash, $5 its expiry (both
 * expiries capped at the session's absolute one). A concurrent caller's
 * UPDATE waits on the row lock and then matches nothing.
 */
const ROTATE_STATEMENT = `
  with rotated as (
    update refresh_tokens set rotated_at = $1
    where token_hash = $2 and rotated_at is null and revoked_at is null and expires_at > $1
    returning session_id, user_id
  ), touched as (
    update sessions set last_seen_at = $1, idle_expires_at = least(sessions.absolute_expires_at, $3::bigint)
    from rotated
    where sessions.id = rotated.session_id and sessions.revoked_at is null
      and sessions.idle_expires_at > $1 and sessions.absolute_expires_at > $1
    returning sessions.*
  ), successor as (
    insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at)
    select $4::text, touched.id, touched.user_id, $1::bigint, least($5::bigint, touched.absolute_expires_at)
    from touched
    on conflict (token_hash) do nothing
    returning token_hash
  )
  select (select session_id from rotated) as rotated_session_id, touched.*,
    (select row_to_json(users) from users where users.id = touched.user_id) as owner
  from (select 1) as one left join touched on true left join successor on true`;

/** Data access for `refresh_tokens` (hashes only; the raw token never reaches the database). */
export class RefreshTokensRepository {
  constructor(private readonly storage: Storage) {}

  async insert(row: { tokenHash: string; sessionId: string; userId: number; now: number; expiresAt: number }): Promise<void> {
    await this.storage.db
      .insertInto('refresh_tokens')
      .values({
        token_hash: row.tokenHash,
        session_id: row.sessionId,
        user_id: row.userId,
        created_at: row.now,
        expires_at: row.expiresAt,
      })
      .execute();
  }

  async findByHash(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    return this.storage.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /**
   * Exchanges a refresh token for its successor. Race-safe: under concurrent
   * calls with one token (parallel tabs, several instances) exactly one caller
   * gets `rotated`. Its conditional UPDATE (`rotated_at is null`) holds the row
   * lock on PostgreSQL, or the database write lock on SQLite, until the
   * successor row is committed; the other callers' UPDATE then matches no row,
   * they re-read the committed row and get `successor` (within the grace) for
   * the same, deterministically derived successor, which already exists.
   */
  async rotate(request: RotateRequest): Promise<RotateOutcome> {
    if (this.storage.engine === 'postgres' && this.storage.prepared) {
      const won = await this.rotateInOneStatement(this.storage.prepared, request);
      if (won) return won;
      // Read-only from here: no transaction needed.
      return this.rotatedBefore(this.storage.db, request);
    }
    const { tokenHash, successorHash, now } = request;
    return this.storage.db.transaction().execute(async (trx): Promise<RotateOutcome> => {
      const won = await trx
        .updateTable('refresh_tokens')
        .set({ rotated_at: now })
        .where('token_hash', '=', tokenHash)
        .where('rotated_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['session_id', 'user_id'])
        .executeTakeFirst();

      if (won) {
        const idleUntil = now + request.idleMs;
        const session = await trx
          .updateTable('sessions')
          .set({
            last_seen_at: now,
            idle_expires_at: idleExpiryCappedAt(idleUntil),
          })
          .where('id', '=', won.session_id)
          .where('revoked_at', 'is', null)
          .where('idle_expires_at', '>', now)
          .where('absolute_expires_at', '>', now)
          .returningAll()
          .executeTakeFirst();
        if (!session) return { kind: 'session-ended', sessionId: won.session_id };
        await trx
          .insertInto('refresh_tokens')
          .values({
            token_hash: successorHash,
            session_id: won.session_id,
            user_id: won.user_id,
            created_at: now,
            expires_at: Math.min(now + request.refreshTtlMs, session.absolute_expires_at),
          })
          .onConflict((oc) => oc.column('token_hash').doNothing())
          .execute();
        return { kind: 'rotated', session };
      }

      return this.rotatedBefore(trx, request);
    });
  }

  /**
   * PostgreSQL: ROTATE_STATEMENT (data-modifying CTEs, which Kysely's
   * builder cannot compose across three tables and SQLite lacks), so a
   * refresh costs one round-trip instead of six, as a prepared statement
   * because planning it cost more than running it. Undefined when this
   * caller did not rotate the token.
   */
  private async rotateInOneStatement(
    prepared: NonNullable<Storage['prepared']>,
    request: RotateRequest,
  ): Promise<RotateOutcome | undefined> {
    const { tokenHash, successorHash, now } = request;
    const values = [now, tokenHash, now + request.idleMs, successorHash, now + request.refreshTtlMs];
    type Row = SessionRow & { rotated_session_id: string | null; owner: UserRow | null };
    // Planning this statement costs more than running it: prepared, PostgreSQL's
    // CPU per rotation went from ~650-850 µs to ~200 µs (bench/RESULTS.md).
    const [row] = await prepared<Row>({ name: 'curfew_rotate_refresh_token', text: ROTATE_STATEMENT, values });
    if (!row || row.rotated_session_id === null) return undefined;
    if (row.id === null) return { kind: 'session-ended', sessionId: row.rotated_session_id };
    const { rotated_session_id: _ignored, owner, ...session } = row;
    return { kind: 'rotated', session, user: owner ?? undefined };
  }

  /** rotate() when this caller did not rotate: decide from the committed row. */
  private async rotatedBefore(trx: Kysely<Database>, request: RotateRequest): Promise<RotateOutcome> {
    const { tokenHash, now } = request;
    const row = await trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    if (!row || row.revoked_at !== null) return { kind: 'invalid' };
    // Refresh tokens never outlive their session, so an expired one means the session is over.
    if (row.expires_at <= now) return { kind: 'session-ended', sessionId: row.session_id };
    if (row.rotated_at === null) return { kind: 'invalid' };
    if (now - row.rotated_at > request.graceMs) return { kind: 'reused', sessionId: row.session_id };
    const session = await trx.selectFrom('sessions').selectAll().where('id', '=', row.session_id).executeTakeFirst();
    if (!session || session.revoked_at !== null || session.idle_expires_at <= now || session.absolute_expires_at <= now) {
      return { kind: 'session-ended', sessionId: row.session_id };
    }
    return { kind: 'successor', session };
  }

  /** Deletes up to `limit` rows past their expiry; returns the count (for the flush job). */
  async deleteExpired(now: number, limit: number): Promise<number> {
    const hashes = this.storage.db.selectFrom('refresh_tokens').select('token_hash').where('expires_at', '<', now).limit(limit);
    const result = await this.storage.db.deleteFrom('refresh_tokens').where('token_hash', 'in', hashes).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
