import type { Storage } from '../database.js';

/** Signatures of accepted signed trigger requests, kept until they expire. */
export class TriggerSignaturesRepository {
  constructor(private readonly storage: Storage) {}

  /**
   * Records `signature` as used. Returns false when it was already recorded.
   * Race-safe: under concurrent calls with one signature, on any instance,
   * exactly one caller gets true.
   */
  async claim(signature: string, expiresAt: number): Promise<boolean> {
    const row = await this.storage.db
      .insertInto('trigger_signatures')
      .values({ signature, expires_at: expiresAt })
      .onConflict((oc) => oc.column('signature').doNothing())
      .returning('signature')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deletes signatures whose acceptance window has passed. */
  async prune(now: number): Promise<number> {
    const result = await this.storage.db.deleteFrom('trigger_signatures').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async count(): Promise<number> {
    const row = await this.storage.db
      .selectFrom('trigger_signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
