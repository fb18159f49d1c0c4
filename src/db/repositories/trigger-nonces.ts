import type { Storage } from '../database.js';

/** Nonces of accepted signed trigger requests, kept until their window closes (replay guard). */
export class TriggerNoncesRepository {
  constructor(private readonly storage: Storage) {}

  /**
   * Records `nonce` as used. Returns false when it was already recorded.
   * Race-safe: under concurrent calls with one nonce, on any instance,
   * exactly one caller gets true.
   */
  async claim(nonce: string, expiresAt: number): Promise<boolean> {
    const row = await this.storage.db
      .insertInto('trigger_nonces')
      .values({ nonce, expires_at: expiresAt })
      .onConflict((oc) => oc.column('nonce').doNothing())
      .returning('nonce')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deletes nonces whose acceptance window has passed. */
  async prune(now: number): Promise<number> {
    const result = await this.storage.db.deleteFrom('trigger_nonces').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async count(): Promise<number> {
    const row = await this.storage.db
      .selectFrom('trigger_nonces')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
