/**
 * `curfew/verify`: verify curfew access tokens inside another Node service,
 * without calling curfew per request (docs/verify.md). No import of curfew's
 * server code: only `jose`, and `nats` when `busUrl` is given.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { RevocationSet } from './revocations.js';
import { listenForRevocations, type EventListener } from './events.js';

import type { VerifiedUser, Verifier } from './types.js';

export { verifyPlugin, verifyMiddleware, tokenFromRequest, type AdapterOptions } from './adapters.js';
export type { VerifiedUser, Verifier } from './types.js';

export interface VerifierOptions {
  /** The `iss` curfew signs with (its JWT_ISSUER, default its PUBLIC_URL). */
  readonly issuer: string;
  /** The `aud` curfew signs with (its JWT_AUDIENCE, default `curfew`). */
  readonly audience: string;
  /** curfew's key set, e.g. https://auth.example.com/.well-known/jwks.json */
  readonly jwksUrl: string;
  /**
   * NATS server(s) where curfew publishes revocation events (its BUS_URL).
   * Given: revoked sessions are refused at once. Not given: a revoked
   * session's token stays valid until it expires (ACCESS_TOKEN_TTL, 5 min by default).
   */
  readonly busUrl?: string;
  /** curfew's BUS_SUBJECT_PREFIX (default `curfew`). */
  readonly subjectPrefix?: string;
  /** Least time between two key-set fetches caused by an unknown `kid`, in ms (default 1000). */
  readonly jwksCooldownMs?: number;
  /** Key-set cache lifetime in ms (default 600 000). */
  readonly jwksMaxAgeMs?: number;
  /** Clock skew allowed on `exp`, in seconds (default 5). */
  readonly clockToleranceSeconds?: number;
  /** Where time comes from (default Date.now); tests move it. */
  readonly now?: () => number;
}

const MAX_TOKEN_LENGTH = 8192;

function toUser(payload: JWTPayload): VerifiedUser | null {
  const { sub, sid, sct, email, role, exp } = payload;
  const id = Number(sub);
  if (!Number.isSafeInteger(id) || id <= 0 || String(id) !== sub) return null;
  if (typeof sid !== 'string' || typeof sct !== 'number' || typeof email !== 'string' || typeof role !== 'string' || typeof exp !== 'number') return null;
  return { id, email, role, sessionId: sid, sessionCreatedAt: sct, expiresAt: new Date(exp * 1000), claims: payload };
}

/**
 * Verifies curfew access tokens locally: EdDSA signature against curfew's
 * JWKS (cached; fetched again on an unknown `kid`, at most once per
 * cooldown, and at once on a `keys.rotated` event), issuer, audience,
 * `typ: at+jwt` and expiry; with `busUrl`, sessions revoked by curfew's
 * events are refused from the moment the event arrives.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const now = options.now ?? Date.now;
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.jwksCooldownMs ?? 1000,
    cacheMaxAge: options.jwksMaxAgeMs ?? 600_000,
  });
  const revocations = new RevocationSet();
  let listener: EventListener | undefined;
  let listening: Promise<void> = Promise.resolve();
  if (options.busUrl !== undefined) {
    listening = listenForRevocations({
      servers: options.busUrl,
      prefix: options.subjectPrefix ?? 'curfew',
      onEvent: (kind, payload) => {
        if (kind === 'keys.rotated') void jwks.reload().catch(() => undefined);
        else revocations.apply(kind, payload, now());
      },
    }).then((created) => {
      listener = created;
    });
  }
  const verifyOptions = {
    algorithms: ['EdDSA'],
    issuer: options.issuer,
    audience: options.audience,
    typ: 'at+jwt',
    clockTolerance: options.clockToleranceSeconds ?? 5,
    requiredClaims: ['sub', 'exp', 'iat'],
  };
  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, options.now ? { ...verifyOptions, currentDate: new Date(now()) } : verifyOptions));
      } catch {
        return null;
      }
      const user = toUser(payload);
      if (user === null) return null;
      return revocations.isRevoked({ userId: user.id, role: user.role, sessionId: user.sessionId, sessionCreatedAt: user.sessionCreatedAt }) ? null : user;
    },
    ready: () => listening,
    busState: () => (options.busUrl === undefined ? 'off' : (listener?.state() ?? 'connecting')),
    async close() {
      await listening.catch(() => undefined);
      await listener?.close();
    },
  };
}
