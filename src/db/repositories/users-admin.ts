import { sql } from 'kysely';
import type { Storage } from '../database.js';
import type { UserRow } from './users.js';

export interface UserSearch {
  /** Part of the e-mail address (already lower-cased); matched anywhere in it. */
  readonly q?: string | undefined;
  readonly role?: 'user' | 'admin' | undefined;
  /** true: activated and not deactivated; false: the others. */
  readonly active?: boolean | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** `%`, `_` and `\` taken literally in a LIKE pattern (escape character `\`). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** True for a unique-constraint violation on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || (error instanceof Error && /UNIQUE constraint failed/.test(error.message));
}

/** The users queries of the account lifecycle and admin user management. */
export class UsersAdminRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  /** One page of users by id, and the total matching. Scans `users` (admin use; e-mail search has no index). */
  async search(search: UserSearch): Promise<{ rows: UserRow[]; total: number }> {
    let query = this.db.selectFrom('users');
    if (search.q !== undefined && search.q !== '') {
      // ESCAPE spelled out: SQLite has no default LIKE escape character.
      query = query.where(sql<boolean>`email like ${`%${likeLiteral(search.q)}%`} escape '\\'`);
    }
    if (search.role !== undefined) query = query.where('role', '=', search.role);
    if (search.active === true) query = query.where('activated_at', 'is not', null).where('deactivated_at', 'is', null);
    if (search.active === false) query = query.where((eb) => eb.or([eb('activated_at', 'is', null), eb('deactivated_at', 'is not', null)]));
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id').limit(search.limit).offset(search.offset).execute(),
      query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst(),
    ]);
    return { rows, total: Number(count?.n ?? 0) };
  }

  async setRole(id: number, role: 'user' | 'admin', now: number): Promise<void> {
    await this.db.updateTable('users').set({ role, updated_at: now }).where('id', '=', id).execute();
  }

  /** Sets deactivated_at; false when the user was already deactivated (or does not exist). */
  async deactivate(id: number, now: number): Promise<boolean> {
    const result = await this.db.updateTable('users').set({ deactivated_at: now, updated_at: now }).where('id', '=', id).where('deactivated_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Clears deactivated_at and activates a never-activated account (an operator vouches for it). */
  async reactivate(id: number, now: number): Promise<void> {
    await this.db.updateTable('users').set({ deactivated_at: null, updated_at: now }).where('id', '=', id).execute();
    await this.db.updateTable('users').set({ activated_at: now }).where('id', '=', id).where('activated_at', 'is', null).execute();
  }

  /** Switches the address; false when another account took it meanwhile (the unique index decides). */
  async updateEmail(id: number, email: string, now: number): Promise<boolean> {
    try {
      const result = await this.db.updateTable('users').set({ email, updated_at: now }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** Deletes the user; sessions, tokens and presence go with it (ON DELETE CASCADE). */
  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Ids of up to `limit` never-activated accounts created before `before`, oldest first (users_unactivated_created_idx). */
  async unactivatedBefore(before: number, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('users')
      .select('id')
      .where('activated_at', 'is', null)
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((row) => Number(row.id));
  }

  async countUnactivatedBefore(before: number): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('activated_at', 'is', null)
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Deletes those of `ids` that are still never-activated and created before
   * `before` (an activation racing the purge wins); returns the count.
   */
  async deleteUnactivated(ids: readonly number[], before: number): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .deleteFrom('users')
      .where('id', 'in', ids)
      .where('activated_at', 'is', null)
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
