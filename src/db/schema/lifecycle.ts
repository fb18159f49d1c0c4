import type { Generated } from 'kysely';

/** What an account token is for. */
export type AccountTokenPurpose = 'password-reset' | 'email-change';

/**
 * Password-reset and e-mail-change links. Only the SHA-256 hash of the token
 * is stored; the token exists only in the mail. Times are epoch milliseconds.
 */
export interface AccountTokensTable {
  id: Generated<number>;
  user_id: number;
  purpose: AccountTokenPurpose;
  token_hash: string;
  /** The address an e-mail-change link switches to; null for resets. */
  new_email: string | null;
  created_at: number;
  expires_at: number;
  /** Set once, when used or when a newer link of the same purpose replaced it. */
  used_at: number | null;
}

/** Requests counted per address (HMAC of it) and per IP for the account-mail routes. */
export interface AccountMailThrottleTable {
  /** e.g. `address:resend`, `ip:reset`. */
  scope: string;
  key: string;
  count: number;
  window_started_at: number;
}

/** A deleted account's address, kept as a SHA-256 hash so suppression lists never forget it. */
export interface AccountTombstonesTable {
  email_hash: string;
  deleted_at: number;
}

export interface LifecycleTables {
  account_tokens: AccountTokensTable;
  account_mail_throttle: AccountMailThrottleTable;
  account_tombstones: AccountTombstonesTable;
}
