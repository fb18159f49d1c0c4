import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * The signed-request scheme for trigger routes (the recommended credential):
 *
 *   X-Curfew-Timestamp: <unix seconds>
 *   X-Curfew-Nonce:     <16-128 chars of A-Z a-z 0-9 _ ->, random, single use
 *   X-Curfew-Slot:      <ISO 8601 UTC instant> (optional; per-job routes)
 *   X-Curfew-Signature: v2=<hex HMAC-SHA256(secret, canonical)>
 *
 * canonical = "v2" \n METHOD \n PATH_AND_QUERY \n TIMESTAMP \n NONCE \n SLOT \n hex(SHA-256(body))
 * (SLOT is empty when the header is absent, so it cannot be stripped.)
 *
 * The server rejects timestamps outside a 5-minute window, any nonce it has
 * already accepted (replay; remembered in the database until the window
 * closes), and a slot that is not the one it would run now.
 * `curfew trigger` signs; src/triggers verifies. v1 (no nonce) is refused.
 */
export const SIGNATURE_HEADER = 'x-curfew-signature';
export const TIMESTAMP_HEADER = 'x-curfew-timestamp';
export const NONCE_HEADER = 'x-curfew-nonce';
export const SLOT_HEADER = 'x-curfew-slot';
export const SIGNATURE_WINDOW_SECONDS = 300;
/** What a nonce may look like: URL-safe, 16 to 128 characters (`randomNonce()` makes 22). */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** The parts a v2 signature covers beyond method, path, timestamp and body. */
export interface SignedParts {
  readonly nonce: string;
  /** The X-Curfew-Slot value as sent; empty or undefined when the header is absent. */
  readonly slot?: string | undefined;
}

export function canonicalRequest(method: string, pathAndQuery: string, timestamp: string, body: string | Buffer, parts: SignedParts): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return `v2\n${method.toUpperCase()}\n${pathAndQuery}\n${timestamp}\n${parts.nonce}\n${parts.slot ?? ''}\n${bodyHash}`;
}

export function signRequest(secret: string, method: string, pathAndQuery: string, timestamp: string, body: string | Buffer, parts: SignedParts): string {
  const mac = createHmac('sha256', secret).update(canonicalRequest(method, pathAndQuery, timestamp, body, parts)).digest('hex');
  return `v2=${mac}`;
}

/** 128 random bits, base64url. */
export function randomNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Headers for a signed call at `nowMs`: timestamp, a fresh nonce (unless
 * `parts.nonce` is given), the slot when given, and the signature.
 */
export function signedHeaders(
  secret: string,
  method: string,
  pathAndQuery: string,
  nowMs: number,
  body: string | Buffer = '',
  parts: Partial<SignedParts> = {},
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const signed: SignedParts = { nonce: parts.nonce ?? randomNonce(), slot: parts.slot };
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [NONCE_HEADER]: signed.nonce,
    ...(signed.slot === undefined || signed.slot === '' ? {} : { [SLOT_HEADER]: signed.slot }),
    [SIGNATURE_HEADER]: signRequest(secret, method, pathAndQuery, timestamp, body, signed),
  };
}
