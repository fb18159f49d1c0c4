import { randomBytes } from 'node:crypto';
import { deriveKey, hmac, safeEqual } from '../tokens/secrets.js';

/**
 * CSRF tokens for the signed double-submit pattern (OWASP): `<nonce>.<mac>`
 * where mac = HMAC(key derived from SECRET_KEY, sessionId + nonce). A token
 * is only valid for the session it was issued to, so a token planted from
 * another session (cookie tossing) is refused.
 */
export class CsrfTokens {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = deriveKey(secretKey, 'csrf');
  }

  issue(sessionId: string): string {
    const nonce = randomBytes(16).toString('base64url');
    return `${nonce}.${hmac(this.key, `${sessionId}.${nonce}`)}`;
  }

  isValid(token: string, sessionId: string): boolean {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 200) return false;
    const nonce = token.slice(0, dot);
    return safeEqual(token.slice(dot + 1), hmac(this.key, `${sessionId}.${nonce}`));
  }
}

/**
 * The checks of an unsafe, cookie-authenticated request: the `Origin` (when
 * sent) is in the allow-list, the header token equals the cookie token, and
 * the token was issued to this session. Returns the reason it fails, or
 * undefined when it passes.
 */
export function csrfFailure(
  csrf: CsrfTokens,
  input: { origin: string | undefined; header: string | undefined; cookie: string | undefined; sessionId: string },
  allowedOrigins: readonly string[],
): string | undefined {
  if (input.origin !== undefined && !allowedOrigins.includes('*') && !allowedOrigins.includes(input.origin)) {
    return 'The request origin is not allowed.';
  }
  if (!input.header || !input.cookie) return 'The CSRF token is missing.';
  if (!safeEqual(input.header, input.cookie) || !csrf.isValid(input.header, input.sessionId)) return 'The CSRF token is invalid.';
  return undefined;
}
