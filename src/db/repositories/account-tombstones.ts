import type { Storage } from '../database.js';

/** Data access for `account_tombstones` (hashes of deleted accounts' addresses). */
export class AccountTombstonesRepository {
  constructor(private readonly storage: Storage) {}

  /** Records (or refreshes) a tombstone. Idempotent. */
  async record(emailHash: string, now: number): Promise<void> {
    await this.storage.db
      .insertInto('account_tombstones')
      .values({ email_hash: emailHash, deleted_at: now })
      .onConflict((oc) => oc.column('email_hash').doUpdateSet({ deleted_at: now }))
      .execute();
  }

  /** When the account with this address hash was deleted, or undefined. */
  async deletedAt(emailHash: string): Promise<number | undefined> {
    const row = await this.storage.db.selectFrom('account_tombstones').select('deleted_at').where('email_hash', '=', emailHash).executeTakeFirst();
    return row === undefined ? undefined : Number(row.deleted_at);
  }
}
