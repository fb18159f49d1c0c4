import type { Generated } from 'kysely';

/**
 * One activation link. Only the SHA-256 hash of the token is stored; the
 * token itself exists only in the mail. Times are epoch milliseconds.
 */
export interface ActivationTokensTable {
  id: Generated<number>;
  user_id: number;
  /** Hex SHA-256 of the token; unique. */
  token_hash: string;
  created_at: number;
  expires_at: number;
  /** Set once, by the request that activates; null while unused. */
  used_at: number | null;
}

/** `unknown`: the connection dropped after the message data went out; never resent automatically. */
export type MailStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unknown';

/**
 * The mail outbox: rows are written in the same transaction as the change
 * that causes the mail, and a background sender delivers them.
 */
export interface MailOutboxTable {
  id: Generated<number>;
  recipient: string;
  subject: string;
  /** Plain-text body; emptied once sent. */
  text: string;
  /** HTML body; null once sent. */
  html: string | null;
  status: MailStatus;
  /** Delivery attempts so far (a claim counts as one). */
  attempts: number;
  /** When a pending row becomes due. */
  next_attempt_at: number;
  /** The instance that claimed the row, while status is `sending`. */
  locked_by: string | null;
  /** Until when the claim holds; after it another instance may retry the row. */
  locked_until: number | null;
  /** Short description of the last failure, without secrets. */
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

// Tables owned by src/accounts and src/mail (activation tokens, mail outbox).
export interface AccountsTables {
  activation_tokens: ActivationTokensTable;
  mail_outbox: MailOutboxTable;
}
