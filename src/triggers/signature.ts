import { createHash, createHmac } from 'node:crypto';

/**
 * The signed-request scheme for trigger routes (the recommended credential):
 *
 *   X-Curfew-Timestamp: <unix seconds>
 *   X-Curfew-Signature: v1=<hex HMAC-SHA256(secret, canonical)>
 *
 * canonical = METHOD "\n" PATH_AND_QUERY "\n" TIMESTAMP "\n" hex(SHA-256(body))
 *
 * The server rejects timestamps outside a 5-minute window and any signature it
 * has already accepted (replay). `curfew trigger` signs; src/triggers verifies.
 */
export const SIGNATURE_HEADER = 'x-curfew-signature';
export const TIMESTAMP_HEADER = 'x-curfew-timestamp';
export const SIGNATURE_WINDOW_SECONDS = 300;

export function canonicalRequest(method: string, pathAndQuery: string, timestamp: string, body: string | Buffer): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return `${method.toUpperCase()}\n${pathAndQuery}\n${timestamp}\n${bodyHash}`;
}

export function signRequest(secret: string, method: string, pathAndQuery: string, timestamp: string, body: string | Buffer = ''): string {
  const mac = createHmac('sha256', secret).update(canonicalRequest(method, pathAndQuery, timestamp, body)).digest('hex');
  return `v1=${mac}`;
}

/** Headers for a signed call at `nowMs`. */
export function signedHeaders(secret: string, method: string, pathAndQuery: string, nowMs: number, body: string | Buffer = ''): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signRequest(secret, method, pathAndQuery, timestamp, body),
  };
}
