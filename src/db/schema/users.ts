import type { Generated } from 'kysely';

/**
 * Time columns everywhere are epoch milliseconds (BIGINT on PostgreSQL,
 * INTEGER on SQLite); flags are 0/1 integers; JSON is stored as text.
 */
export interface UsersTable {
  id: Generated<number>;
  /** Normalised: trimmed, lower-cased. */
  email: string;
  password_hash: string;
  role: 'user' | 'admin';
  /** JSON text of the profile object given at registration. */
  profile: string;
  /** Null until the activation link is used. */
  activated_at: number | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  /** Set by an admin's deactivation (login refused, sessions revoked); null otherwise. Migration 0009. */
  deactivated_at: number | null;
}

export interface UsersTables {
  users: UsersTable;
}
