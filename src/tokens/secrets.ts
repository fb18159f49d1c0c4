import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Derives an independent 32-byte key for one purpose from SECRET_KEY (HKDF-SHA256),
 * so CSRF tokens, refresh-token successors and key encryption never share a key.
 */
export function deriveKey(secretKey: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'curfew', `curfew:${purpose}`, 32));
}

/** A random opaque token: 32 bytes, base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a token, base64url: the only form in which opaque tokens are stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** HMAC-SHA256, base64url. */
export function hmac(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

/**
 * The one constant-time comparison of two strings of any length (true only
 * when they are equal). Both sides are hashed first, so neither their content
 * nor a difference in length leaks through timing.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a === b;
}
