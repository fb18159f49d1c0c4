import { hash } from 'node:crypto';
import { safeEqual } from '../tokens/secrets.js';
import { NONCE_HEADER, NONCE_PATTERN, SIGNATURE_HEADER, SIGNATURE_WINDOW_SECONDS, SLOT_HEADER, TIMESTAMP_HEADER, signRequest } from './signature.js';

/** Which credential a trigger request carried. Never holds the secret itself in logs. */
export type CredentialKind = 'signature' | 'bearer' | 'header' | 'query';

/** The parts of a request the credential check reads; built by the HTTP adapter. */
export interface TriggerRequest {
  readonly method: string;
  /** Path and query exactly as sent (what a signer signs). */
  readonly url: string;
  readonly header: (name: string) => string | undefined;
  /** The `token` query parameter, if any. */
  readonly queryToken: string | undefined;
  /** The raw body bytes (empty when there is none). */
  readonly body: Buffer;
}

export type CredentialResult =
  | { readonly ok: true; readonly kind: CredentialKind; readonly replay?: { readonly nonce: string; readonly expiresAt: number } }
  | { readonly ok: false; readonly code: 'CRON_UNAUTHORIZED' | 'SIGNATURE_EXPIRED'; readonly message: string };

/** Extra time a used nonce is kept beyond its window, to absorb clock skew between instances. */
const REPLAY_MARGIN_MS = 60_000;

const digestCache = new WeakMap<readonly string[], readonly string[]>();

/**
 * SHA-256 as hex. A string, not a Buffer: on the refusal hot path a fresh
 * ArrayBuffer per request cost more (in allocation and GC) than the hash.
 */
function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Equality of two hex digests in constant time: every character is compared, with no branch on the data. */
function digestsEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let index = 0; index < a.length; index += 1) difference |= a.charCodeAt(index) ^ b.charCodeAt(index);
  return difference === 0;
}

/**
 * Constant-time "is `candidate` one of `secrets`": the candidate's digest
 * is compared with every secret's (computed once per secret list), so the
 * time taken says neither how much matched nor which secret did.
 */
function matchesAny(candidate: string, secrets: readonly string[]): boolean {
  let digests = digestCache.get(secrets);
  if (digests === undefined) {
    digests = secrets.map(sha256Hex);
    digestCache.set(secrets, digests);
  }
  const given = sha256Hex(candidate);
  let matched = false;
  for (let index = 0; index < digests.length; index += 1) {
    const equal = digestsEqual(given, digests[index] as string) && candidate.length === (secrets[index] as string).length;
    matched = equal || matched;
  }
  return matched;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Decides whether the request carries a valid credential, without touching
 * the database. The first credential present decides, in order of
 * preference: signature headers, `Authorization: Bearer`, `X-Cron-Secret`,
 * `?token=` (only when `allowQueryToken`). A valid signature additionally
 * returns its nonce (the replay key) the caller must claim before running anything.
 */
export function checkCredential(
  request: TriggerRequest,
  secrets: readonly string[],
  options: { readonly allowQueryToken: boolean; readonly now: number },
): CredentialResult {
  const signature = request.header(SIGNATURE_HEADER);
  const timestamp = request.header(TIMESTAMP_HEADER);
  if (signature !== undefined || timestamp !== undefined) {
    return checkSignature(request, secrets, signature, timestamp, options.now);
  }
  const authorization = request.header('authorization');
  if (authorization !== undefined) {
    const bearer = BEARER.exec(authorization)?.[1];
    if (bearer !== undefined && matchesAny(bearer, secrets)) return { ok: true, kind: 'bearer' };
    return denied('The bearer token is not valid.');
  }
  const headerSecret = request.header('x-cron-secret');
  if (headerSecret !== undefined) {
    if (matchesAny(headerSecret, secrets)) return { ok: true, kind: 'header' };
    return denied('The X-Cron-Secret header is not valid.');
  }
  if (request.queryToken !== undefined) {
    if (!options.allowQueryToken) {
      return denied('Query-string tokens are disabled (CRON_ALLOW_QUERY_TOKEN); send Authorization: Bearer instead.');
    }
    if (matchesAny(request.queryToken, secrets)) return { ok: true, kind: 'query' };
    return denied('The token is not valid.');
  }
  return denied('A cron credential is required: a signed request, Authorization: Bearer or X-Cron-Secret.');
}

function checkSignature(
  request: TriggerRequest,
  secrets: readonly string[],
  signature: string | undefined,
  timestamp: string | undefined,
  now: number,
): CredentialResult {
  if (signature === undefined || timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return denied(`A signed request needs both ${TIMESTAMP_HEADER} (unix seconds) and ${SIGNATURE_HEADER}.`);
  }
  if (!signature.startsWith('v2=')) {
    return denied('Only v2 signatures are accepted (with X-Curfew-Nonce); curfew trigger signs them, see docs/triggers.md.');
  }
  const nonce = request.header(NONCE_HEADER);
  if (nonce === undefined || !NONCE_PATTERN.test(nonce)) {
    return denied('A signed request needs X-Curfew-Nonce: 16 to 128 random characters (A-Z, a-z, 0-9, _ or -), new for every request.');
  }
  const parts = { nonce, slot: request.header(SLOT_HEADER) };
  let valid = false;
  for (const secret of secrets) {
    valid = safeEqual(signature, signRequest(secret, request.method, request.url, timestamp, request.body, parts)) || valid;
  }
  if (!valid) return denied('The request signature is not valid.');
  // Checked only after the MAC, so strangers learn nothing about our clock.
  const signedAt = Number(timestamp) * 1000;
  const windowMs = SIGNATURE_WINDOW_SECONDS * 1000;
  if (Math.abs(now - signedAt) > windowMs) {
    return {
      ok: false,
      code: 'SIGNATURE_EXPIRED',
      message: `The signature timestamp is more than ${SIGNATURE_WINDOW_SECONDS} seconds away from the server's time.`,
    };
  }
  return { ok: true, kind: 'signature', replay: { nonce, expiresAt: signedAt + windowMs + REPLAY_MARGIN_MS } };
}

function denied(message: string): CredentialResult {
  return { ok: false, code: 'CRON_UNAUTHORIZED', message };
}
