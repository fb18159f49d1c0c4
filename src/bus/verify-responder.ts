import { Buffer } from 'node:buffer';
import type { AccessClaims } from '../tokens/access-tokens.js';

/** The subject every instance answers (with BUS_SUBJECT_PREFIX `curfew`), in one queue group. */
export const VERIFY_SUBJECT = 'curfew.auth.verify';

/** The verify subject and queue group for a subject prefix. */
export function verifySubject(prefix: string): { subject: string; queue: string } {
  return { subject: `${prefix}.auth.verify`, queue: `${prefix}.auth.verify.workers` };
}
/** Largest request accepted (bytes); an access token is well under 1 KiB. */
export const MAX_VERIFY_REQUEST_BYTES = 8192;

/** What the responder needs from auth (AuthService). */
export interface TokenVerifier {
  verifyCachedAccessToken(token: string): AccessClaims | undefined | null;
  verifyAccessToken(token: string): Promise<AccessClaims | undefined>;
}

/** A valid token's answer. */
export interface VerifyValid {
  readonly valid: true;
  readonly user: { readonly id: number; readonly email: string; readonly role: string };
  readonly session_id: string;
  readonly expires_at: string;
}

/** Anything else. */
export interface VerifyInvalid {
  readonly valid: false;
  readonly error: { readonly code: string; readonly message: string };
}

export type VerifyReply = VerifyValid | VerifyInvalid;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function invalid(code: string, message: string): Uint8Array {
  const reply: VerifyInvalid = { valid: false, error: { code, message } };
  return encoder.encode(JSON.stringify(reply));
}

// The fixed refusals, encoded once.
const REFUSALS = {
  tooLarge: invalid('PAYLOAD_TOO_LARGE', `The request is larger than ${MAX_VERIFY_REQUEST_BYTES} bytes.`),
  notJson: invalid('INVALID_JSON', 'The request is not valid UTF-8 JSON.'),
  noToken: invalid('VALIDATION_FAILED', 'The request must be {"token": "<access token>"}.'),
  badToken: invalid('INVALID_TOKEN', 'The token is invalid, expired or revoked.'),
};

/** Encoded answers per verified token's claims (the token cache keeps one claims object per token). */
const answers = new WeakMap<AccessClaims, Uint8Array>();

function answer(claims: AccessClaims | undefined): Uint8Array {
  if (!claims) return REFUSALS.badToken;
  const known = answers.get(claims);
  if (known) return known;
  const reply: VerifyValid = {
    valid: true,
    user: { id: claims.userId, email: claims.email, role: claims.role },
    session_id: claims.sessionId,
    expires_at: new Date(claims.expiresAt).toISOString(),
  };
  const encoded = encoder.encode(JSON.stringify(reply));
  answers.set(claims, encoded);
  return encoded;
}

/**
 * Requests this instance has answered from the token cache, by their exact
 * bytes: services ask about the same token again and again (once per request
 * they serve), and decoding and parsing the ~600-byte request allocated
 * ~1.2 KB per request, the larger part of what the verify path added to
 * nats.js's own garbage (so to the responder's scavenges). Equal bytes parse
 * to the same token, so a hit skips straight to the token check, which runs
 * on every request as before (expiry, signing key, revocation view): nothing
 * about the answer is remembered here, only the parse. Found by a hash of
 * the request's last 32 bytes (the end of the JWS signature), confirmed by
 * comparing all of them. Bounded; the oldest entry goes first.
 */
export class RequestMemo {
  private readonly entries = new Map<number, { readonly bytes: Uint8Array; readonly token: string }>();

  /** @param maxEntries upper bound on remembered requests (default 4,096: ~5 MB at most). */
  constructor(private readonly maxEntries = 4096) {}

  /** The token of a request seen before with exactly these bytes, or undefined. */
  token(request: Uint8Array): string | undefined {
    const entry = this.entries.get(hashTail(request));
    if (entry === undefined || entry.bytes.byteLength !== request.byteLength || Buffer.compare(entry.bytes, request) !== 0) return undefined;
    return entry.token;
  }

  /** Remembers that `request` is `{"token": token}` (a copy: the client reuses its read buffers). */
  remember(request: Uint8Array, token: string): void {
    const key = hashTail(request);
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { bytes: request.slice(), token });
  }

  forget(request: Uint8Array): void {
    this.entries.delete(hashTail(request));
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A 32-bit hash of the last 32 bytes, without allocating (~35 ns). */
function hashTail(bytes: Uint8Array): number {
  const length = bytes.byteLength;
  let hash = length;
  for (let i = length > 32 ? length - 32 : 0; i < length; i += 1) hash = (Math.imul(hash, 31) + (bytes[i] as number)) | 0;
  return hash;
}

/**
 * The `curfew.auth.verify` handler: request `{"token": "..."}`, the same
 * rule as `POST /api/v1/verify/` (signature, expiry, the revocation view).
 * Every malformed request gets an error reply; nothing here logs or throws,
 * and the token is never echoed. A request whose exact bytes were answered
 * from the token cache before is not parsed again (RequestMemo).
 */
export function verifyHandler(
  auth: TokenVerifier,
  observe: (result: 'valid' | 'invalid' | 'malformed') => void = () => undefined,
  memo: RequestMemo = new RequestMemo(),
): (request: Uint8Array) => Uint8Array | Promise<Uint8Array> {
  const malformed = (reply: Uint8Array) => {
    observe('malformed');
    return reply;
  };
  const verdict = (claims: AccessClaims | undefined) => {
    observe(claims ? 'valid' : 'invalid');
    return answer(claims);
  };
  return (request) => {
    const known = memo.token(request);
    if (known !== undefined) {
      const cached = auth.verifyCachedAccessToken(known);
      if (cached !== null) return verdict(cached);
      // The token left the cache (expired, evicted): the whole path below.
      memo.forget(request);
    }
    if (request.byteLength > MAX_VERIFY_REQUEST_BYTES) return malformed(REFUSALS.tooLarge);
    let body: unknown;
    try {
      body = JSON.parse(decoder.decode(request));
    } catch {
      return malformed(REFUSALS.notJson);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return malformed(REFUSALS.noToken);
    const token = (body as { token?: unknown }).token;
    if (typeof token !== 'string' || token.length === 0 || Object.keys(body).length !== 1) return malformed(REFUSALS.noToken);
    const cached = auth.verifyCachedAccessToken(token);
    if (cached !== null) {
      memo.remember(request, token);
      return verdict(cached);
    }
    return auth.verifyAccessToken(token).then(verdict, () => verdict(undefined));
  };
}
