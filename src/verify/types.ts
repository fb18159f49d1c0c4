/**
 * The types `curfew/verify` hands out, in a file of their own so the
 * adapters and the verifier both import them without importing each other.
 */
import type { JWTPayload } from 'jose';

/** A verified caller. */
export interface VerifiedUser {
  readonly id: number;
  readonly email: string;
  readonly role: string;
  readonly sessionId: string;
  /** When the session was created (epoch ms). */
  readonly sessionCreatedAt: number;
  readonly expiresAt: Date;
  /** Every claim of the token. */
  readonly claims: JWTPayload;
}

export interface Verifier {
  /** The user of a valid, unexpired, unrevoked access token, else null. Never throws for a bad token. */
  verify(token: string): Promise<VerifiedUser | null>;
  /** Resolves once the bus subscription is in place (at once without `busUrl`). */
  ready(): Promise<void>;
  /** `off` without `busUrl`, else whether revocation events are being received. */
  busState(): 'off' | 'connecting' | 'connected' | 'disconnected';
  /** Unsubscribes and closes the bus connection. */
  close(): Promise<void>;
}
