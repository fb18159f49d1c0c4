import type { Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { UsersTable } from '../schema/users.js';

export type UserRow = Selectable<UsersTable>;

export interface NewUser {
  email: string;
  passwordHash: string;
  role: 'user' | 'admin';
  profile: string;
  activatedAt: number | null;
  now: number;
}

/** Data access for `users`. Emails must already be normalised by the caller. */
export class UsersRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  async findById(id: number): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Inserts a user; returns undefined when the email is already taken. Race-safe:
   * under concurrent calls with one email, exactly one caller gets the row.
   */
  async insert(user: NewUser): Promise<UserRow | undefined> {
    return this.db
      .insertInto('users')
      .values({
        email: user.email,
        password_hash: user.passwordHash,
        role: user.role,
        profile: user.profile,
        activated_at: user.activatedAt,
        created_at: user.now,
        updated_at: user.now,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async activate(id: number, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ activated_at: now, updated_at: now })
      .where('id', '=', id)
      .where('activated_at', 'is', null)
      .execute();
  }

  async updatePasswordHash(id: number, passwordHash: string, now: number): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
  }

  async recordLogin(id: number, now: number): Promise<void> {
    await this.db.updateTable('users').set({ last_login_at: now }).where('id', '=', id).execute();
  }
}
