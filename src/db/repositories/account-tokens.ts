import type { Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { AccountTokenPurpose, AccountTokensTable } from '../schema/lifecycle.js';

export type AccountTokenRow = Selectable<AccountTokensTable>;

export interface NewAccountToken {
  userId: number;
  purpose: AccountTokenPurpose;
  tokenHash: string;
  newEmail: string | null;
  createdAt: number;
  expiresAt: number;
}

/** Data access for `account_tokens` (password reset, e-mail change). Looked up by hash only. */
export class AccountTokensRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  async insert(token: NewAccountToken): Promise<void> {
    await this.db
      .insertInto('account_tokens')
      .values({
        user_id: token.userId,
        purpose: token.purpose,
        token_hash: token.tokenHash,
        new_email: token.newEmail,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
      })
      .execute();
  }

  async findByHash(tokenHash: string): Promise<AccountTokenRow | undefined> {
    return this.db.selectFrom('account_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** Marks every unused token of this user and purpose used (a newer link replaces older ones). */
  async invalidate(userId: number, purpose: AccountTokenPurpose, now: number): Promise<void> {
    await this.db
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .execute();
  }

  /**
   * Marks the token used if it is still unused and unexpired. Race-safe: under
   * concurrent calls for one token exactly one caller gets true.
   */
  async consume(id: number, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('account_tokens')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Counts tokens expired before `before` (dry runs). */
  async countExpired(before: number): Promise<number> {
    const row = await this.db.selectFrom('account_tokens').select((eb) => eb.fn.countAll<number | string>().as('n')).where('expires_at', '<', before).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Deletes up to `limit` tokens expired before `before`; returns the count. */
  async deleteExpired(before: number, limit: number): Promise<number> {
    const ids = this.db.selectFrom('account_tokens').select('id').where('expires_at', '<', before).limit(limit);
    const result = await this.db.deleteFrom('account_tokens').where('id', 'in', ids).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
