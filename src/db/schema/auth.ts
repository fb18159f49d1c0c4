/**
 * Tables owned by src/tokens, src/sessions and src/auth. Times are epoch
 * milliseconds; flags are 0/1 integers.
 */

/** One EdDSA signing key. The private part is encrypted with a key derived from SECRET_KEY. */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** Public JWK as JSON text. */
  public_jwk: string;
  /** `v1.<iv>.<tag>.<ciphertext>` (base64url) of the PKCS#8 private key. */
  private_key_enc: string;
  created_at: number;
  /** Set when a newer key became current; the key stays published for one access-token lifetime. */
  retired_at: number | null;
}

/** One login: every access and refresh token belongs to a session. */
export interface SessionsTable {
  id: string;
  user_id: number;
  user_agent: string | null;
  ip: string | null;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

/** Refresh tokens, stored only as SHA-256 hashes. */
export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  user_id: number;
  created_at: number;
  expires_at: number;
  /** Set once when the token is exchanged for its successor. */
  rotated_at: number | null;
  revoked_at: number | null;
}

/** Single-session revocations the in-memory revocation view loads (small: pruned after one access TTL). */
export interface SessionRevocationsTable {
  session_id: string;
  user_id: number;
  recorded_at: number;
  /** After this, every access token of the session has expired anyway. */
  expires_at: number;
}

/**
 * Not-before marks: sessions created before `not_before` are dead. `subject`
 * is `global` or `user:<id>`.
 */
export interface RevocationMarksTable {
  subject: string;
  user_id: number | null;
  not_before: number;
  recorded_at: number;
}

/**
 * Failed-login counters per account (keyed by an HMAC of the email) and per
 * IP. `account`/`ip` count reserved attempts (in flight or failed) and hold
 * the lock; `account-failed`/`ip-failed` count settled failures only, so a
 * refusal can say which it is (src/auth/login-limiter.ts).
 */
export interface LoginAttemptsTable {
  scope: 'account' | 'ip' | 'account-failed' | 'ip-failed';
  key: string;
  failures: number;
  window_started_at: number;
  locked_until: number;
  updated_at: number;
}

export interface AuthTables {
  signing_keys: SigningKeysTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  session_revocations: SessionRevocationsTable;
  revocation_marks: RevocationMarksTable;
  login_attempts: LoginAttemptsTable;
}
