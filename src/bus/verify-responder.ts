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
 * The `curfew.auth.verify` handler: request `{"token": "..."}`, the same
 * rule as `POST /api/v1/verify/` (signature, expiry, the revocation view).
 * Every malformed request gets an error reply; nothing here logs or throws,
 * and the token is never echoed.
 */
export function verifyHandler(
  auth: TokenVerifier,
  observe: (result: 'valid' | 'invalid' | 'malformed') => void = () => undefined,
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
    if (cached !== null) return verdict(cached);
    return auth.verifyAccessToken(token).then(verdict, () => verdict(undefined));
  };
}
