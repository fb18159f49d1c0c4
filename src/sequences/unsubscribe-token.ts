import { createHmac } from 'node:crypto';
import { safeEqual } from '../tokens/secrets.js';

/**
 * Signed unsubscribe tokens, `<user id>.<mac>`: the MAC is HMAC-SHA256 of
 * the user id under a key derived from SECRET_KEY for this one purpose, cut to
 * 128 bits. Not guessable from a user id; independent of the token signing
 * keys, so key rotation leaves every link in sent mail working.
 */
export class UnsubscribeTokens {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = createHmac('sha256', secretKey).update('curfew/unsubscribe/v1').digest();
  }

  issue(userId: number): string {
    return `${userId}.${this.mac(userId)}`;
  }

  /** The user id a token names, or undefined when it is malformed or forged (constant-time check). */
  verify(token: string): number | undefined {
    const match = /^([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})$/.exec(token);
    if (!match) return undefined;
    const userId = Number(match[1]);
    if (!Number.isSafeInteger(userId)) return undefined;
    return safeEqual(this.mac(userId), match[2] ?? '') ? userId : undefined;
  }

  private mac(userId: number): string {
    return createHmac('sha256', this.key).update(`unsubscribe:${userId}`).digest().subarray(0, 16).toString('base64url');
  }
}

/** `${publicUrl}/api/v1/unsubscribe/<token>/`. */
export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/api/v1/unsubscribe/${token}/`;
}
