import type { Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { ActivationTokensTable } from '../schema/accounts.js';

export type ActivationTokenRow = Selectable<ActivationTokensTable>;

export interface NewActivationToken {
  userId: number;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
}

/** Data access for `activation_tokens`. Tokens are looked up by hash only. */
export class ActivationTokensRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  async insert(token: NewActivationToken): Promise<void> {
    await this.db
      .insertInto('activation_tokens')
      .values({
        user_id: token.userId,
        token_hash: token.tokenHash,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
      })
      .execute();
  }

  async findByHash(tokenHash: string): Promise<ActivationTokenRow | undefined> {
    return this.db.selectFrom('activation_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /**
   * Marks the token used if it is still unused and unexpired. Race-safe: under
   * concurrent calls for one token exactly one caller gets true.
   */
  async consume(id: number, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('activation_tokens')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Marks every unused link of the user used (a resend replaces the old link). */
  async invalidateForUser(userId: number, now: number): Promise<void> {
    await this.db.updateTable('activation_tokens').set({ used_at: now }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  }

  /** Counts links expired before `before` (dry runs). */
  async countExpired(before: number): Promise<number> {
    const row = await this.db.selectFrom('activation_tokens').select((eb) => eb.fn.countAll<number | string>().as('n')).where('expires_at', '<', before).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Deletes up to `limit` links expired before `before` (activation_tokens_expires_idx); returns the count. */
  async deleteExpired(before: number, limit: number): Promise<number> {
    const ids = this.db.selectFrom('activation_tokens').select('id').where('expires_at', '<', before).limit(limit);
    const result = await this.db.deleteFrom('activation_tokens').where('id', 'in', ids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
