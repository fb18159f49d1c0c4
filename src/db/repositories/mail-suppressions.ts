import type { Storage } from '../database.js';

/** Data access for `mail_suppressions`: addresses no sequence mail goes to. */
export class MailSuppressionsRepository {
  constructor(private readonly storage: Storage) {}

  /** Adds an address (idempotent: the first reason stays). */
  async add(email: string, reason: string, now: number): Promise<void> {
    await this.storage.db
      .insertInto('mail_suppressions')
      .values({ email: email.toLowerCase(), reason, created_at: now })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
  }

  /** The reason an address is suppressed, or undefined. */
  async reason(email: string): Promise<string | undefined> {
    const row = await this.storage.db.selectFrom('mail_suppressions').select('reason').where('email', '=', email.toLowerCase()).executeTakeFirst();
    return row?.reason;
  }

  async remove(email: string): Promise<boolean> {
    const result = await this.storage.db.deleteFrom('mail_suppressions').where('email', '=', email.toLowerCase()).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
