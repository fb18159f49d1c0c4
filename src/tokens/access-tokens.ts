import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { SIGNING_ALG, type KeyRing } from './keyring.js';
import { TokenCache } from './token-cache.js';

export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Longest token string looked at; anything longer is refused unparsed. */
const MAX_TOKEN_LENGTH = 4096;

/** What an access token says, once verified. */
export interface AccessClaims {
  readonly userId: number;
  readonly email: string;
  readonly role: 'user' | 'admin';
  readonly sessionId: string;
  /** When the session was created (epoch ms; the `sct` claim), for not-before revocation. */
  readonly sessionCreatedAt: number;
  readonly tokenId: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export interface AccessSubject {
  readonly userId: number;
  readonly email: string;
  readonly role: 'user' | 'admin';
  readonly sessionId: string;
  readonly sessionCreatedAt: number;
}

/** The revocation check consulted on every verification (RevocationView). */
export interface RevocationCheck {
  isRevoked(sessionId: string, userId: number, sessionCreatedAt: number): boolean;
}

export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /**
   * Tolerance in seconds for `iat` in the future and for `exp - iat` above
   * `ttlSeconds` (instances with a different ACCESS_TOKEN_TTL during a
   * rolling change; default 60).
   */
  readonly skewSeconds?: number;
  /** Verified tokens kept in memory (default 10,000). */
  readonly cacheSize?: number;
}

/**
 * Issues and verifies EdDSA access tokens (`typ: at+jwt`). Verification is
 * jose's signature and claim checks plus the in-memory revocation view; a
 * verified token's claims are cached until it expires, and the revocation
 * view is still consulted on every cache hit.
 */
export class AccessTokens {
  private readonly cache: TokenCache<CachedClaims>;

  constructor(
    private readonly keys: KeyRing,
    private readonly revocations: RevocationCheck,
    private readonly clock: Clock,
    private readonly options: AccessTokenOptions,
  ) {
    this.cache = new TokenCache(options.cacheSize ?? 10_000);
  }

  async issue(subject: AccessSubject): Promise<{ token: string; expiresAt: number }> {
    const key = this.keys.signingKey();
    const issuedAt = Math.floor(this.clock.now() / 1000);
    const expiresAtSeconds = issuedAt + this.options.ttlSeconds;
    const token = await new SignJWT({ sid: subject.sessionId, sct: subject.sessionCreatedAt, email: subject.email, role: subject.role })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: ACCESS_TOKEN_TYP })
      .setSubject(String(subject.userId))
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAtSeconds)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .sign(key.privateKey);
    return { token, expiresAt: expiresAtSeconds * 1000 };
  }

  /** The claims of a valid, unrevoked access token; undefined for anything else. Never throws. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    const cached = this.verifyCached(token);
    if (cached !== null) return cached;
    const verified = await this.verifySignature(token, this.clock.now());
    if (verified === undefined) return undefined;
    this.cache.set(token, verified);
    return this.unrevoked(verified.claims);
  }

  /**
   * verify() for a token this instance already verified, without a promise
   * (the per-request hot path): its claims, or undefined when it has been
   * revoked; null when it is not in the cache (expired or never seen), and
   * only verify() can tell.
   */
  verifyCached(token: string): AccessClaims | undefined | null {
    const entry = this.cache.get(token, this.clock.now());
    if (entry === undefined) return null;
    // A key retired past its window (or gone from the database) takes its cached tokens with it.
    if (!this.keys.accepts(entry.kid)) {
      this.cache.delete(token);
      return undefined;
    }
    return this.unrevoked(entry.claims);
  }

  private unrevoked(claims: AccessClaims): AccessClaims | undefined {
    return this.revocations.isRevoked(claims.sessionId, claims.userId, claims.sessionCreatedAt) ? undefined : claims;
  }

  private async verifySignature(token: string, now: number): Promise<CachedClaims | undefined> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    let payload: JWTPayload;
    let kid: string | undefined;
    try {
      ({ payload, protectedHeader: { kid } } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid === undefined ? undefined : await this.keys.publicKey(header.kid);
          if (!key) throw new Error('unknown signing key');
          return key;
        },
        {
          algorithms: [SIGNING_ALG],
          issuer: this.options.issuer,
          audience: this.options.audience,
          typ: ACCESS_TOKEN_TYP,
          currentDate: new Date(now),
          requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        },
      ));
    } catch {
      // Bad signature, expired, malformed, unknown kid: all simply "not a valid token".
      return undefined;
    }
    if (kid === undefined || !this.withinLifetime(payload, now)) return undefined;
    const claims = parseClaims(payload);
    return claims === undefined ? undefined : { claims, kid, expiresAt: claims.expiresAt };
  }

  /**
   * No token lives longer than this service issues them: `exp - iat` at most
   * the access TTL plus the skew, and `iat` not in the future (beyond the
   * skew). A token minted with a year's lifetime by a leaked key is refused
   * even while the key is still accepted.
   */
  private withinLifetime(payload: JWTPayload, now: number): boolean {
    const { iat, exp } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number') return false;
    const skew = this.options.skewSeconds ?? 60;
    return exp - iat <= this.options.ttlSeconds + skew && iat <= now / 1000 + skew;
  }
}

/** A verified token in the cache: its claims and the key that signed it. */
interface CachedClaims {
  readonly claims: AccessClaims;
  readonly kid: string;
  readonly expiresAt: number;
}

function parseClaims(payload: JWTPayload): AccessClaims | undefined {
  const { sub, jti, exp, sid, sct, email, role } = payload;
  const userId = Number(sub);
  if (!Number.isSafeInteger(userId) || userId <= 0 || String(userId) !== sub) return undefined;
  if (typeof sid !== 'string' || typeof sct !== 'number' || typeof email !== 'string') return undefined;
  if (role !== 'user' && role !== 'admin') return undefined;
  if (typeof jti !== 'string' || typeof exp !== 'number') return undefined;
  return { userId, email, role, sessionId: sid, sessionCreatedAt: sct, tokenId: jti, expiresAt: exp * 1000 };
}
