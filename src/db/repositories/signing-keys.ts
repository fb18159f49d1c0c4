import type { Insertable, Selectable } from 'kysely';
import { keysRotated } from '../../bus/events.js';
import type { Storage } from '../database.js';
import { noEvents, type EventRecorder } from './bus-outbox.js';
import type { SigningKeysTable } from '../schema/auth.js';

export type SigningKeyRow = Selectable<SigningKeysTable>;

/** Data access for `signing_keys`. */
export class SigningKeysRepository {
  /** `events`: where keys.rotated events go (default none; see src/bus). */
  constructor(
    private readonly storage: Storage,
    private readonly events: EventRecorder = noEvents,
  ) {}

  /** Keys still worth publishing: current ones and those retired after `retiredSince`. */
  async listPublishable(retiredSince: number): Promise<SigningKeyRow[]> {
    return this.storage.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', retiredSince)]))
      .orderBy('created_at', 'desc')
      .execute();
  }

  /** The newest key not yet retired (the one new tokens are signed with). */
  async current(): Promise<SigningKeyRow | undefined> {
    return this.storage.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async insert(row: Insertable<SigningKeysTable>): Promise<void> {
    await this.storage.db.insertInto('signing_keys').values(row).execute();
  }

  /** Retires every current key and inserts `row` as the new current one, in one transaction. */
  async rotate(row: Insertable<SigningKeysTable>, now: number): Promise<void> {
    const recorded = await this.storage.db.transaction().execute(async (trx) => {
      await trx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
      await trx.insertInto('signing_keys').values(row).execute();
      return this.events.record(trx, [keysRotated(row.kid)], now);
    });
    this.events.committed(recorded);
  }

  /** Every key, retired ones too, oldest first (for re-encryption). */
  async listAll(): Promise<SigningKeyRow[]> {
    return this.storage.db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'asc').orderBy('kid', 'asc').execute();
  }

  /** Replaces the encrypted private keys of these kids, all or none (one transaction). */
  async replaceEncrypted(updates: readonly { kid: string; privateKeyEnc: string }[]): Promise<void> {
    await this.storage.db.transaction().execute(async (trx) => {
      for (const { kid, privateKeyEnc } of updates) {
        await trx.updateTable('signing_keys').set({ private_key_enc: privateKeyEnc }).where('kid', '=', kid).execute();
      }
    });
  }
}
