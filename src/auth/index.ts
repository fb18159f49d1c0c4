import type { PasswordHasher } from '../accounts/passwords.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import type { EventRecorder } from '../db/repositories/bus-outbox.js';
import { LoginAttemptsRepository } from '../db/repositories/login-attempts.js';
import { RefreshTokensRepository } from '../db/repositories/refresh-tokens.js';
import { RevocationsRepository } from '../db/repositories/revocations.js';
import { SessionsRepository } from '../db/repositories/sessions.js';
import { SigningKeysRepository } from '../db/repositories/signing-keys.js';
import type { UsersRepository } from '../db/repositories/users.js';
import type { Logger } from '../logger.js';
import { RevocationView } from '../sessions/revocation-view.js';
import { SessionService } from '../sessions/sessions.js';
import { AccessTokens } from '../tokens/access-tokens.js';
import { KeyEncryption } from '../tokens/key-encryption.js';
import { KeyRing } from '../tokens/keyring.js';
import { AuthService } from './auth-service.js';
import { CsrfTokens } from './csrf.js';
import { LoginLimiter } from './login-limiter.js';
import { AuthRefresher } from './refresher.js';

/** Everything login, tokens and sessions need, built once per process. */
export interface Auth {
  readonly service: AuthService;
  readonly keys: KeyRing;
  readonly accessTokens: AccessTokens;
  readonly sessions: SessionService;
  readonly view: RevocationView;
  readonly csrf: CsrfTokens;
  readonly limiter: LoginLimiter;
  /** The background task that refreshes the view and keys. */
  readonly refresher: AuthRefresher;
  /** Loads (or creates) the signing keys and the revocation view; run after migrations. */
  init(): Promise<void>;
}

export interface AuthDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly users: UsersRepository;
  readonly passwords: PasswordHasher;
  /** Where revocation events go (the bus outbox); default none. */
  readonly events?: EventRecorder;
}

/** Builds the auth services from the config (called by createApp). */
export function createAuth({ config, clock, logger, storage, users, passwords, events }: AuthDeps): Auth {
  const { auth } = config;
  const accessTtlMs = auth.accessTtlMs;
  const revocations = new RevocationsRepository(storage, events);
  // A minute of margin beyond the access TTL for instances that have not yet reloaded their keys.
  const keys = new KeyRing(new SigningKeysRepository(storage, events), new KeyEncryption(config.secretKey), clock, {
    publishRetiredForMs: accessTtlMs + 60_000,
  });
  const view = new RevocationView(revocations, clock, { sessionAbsoluteMs: auth.sessionAbsoluteMs });
  const accessTokens = new AccessTokens(keys, view, clock, {
    issuer: auth.issuer,
    audience: auth.audience,
    // JWT times are whole seconds (RFC 7519 NumericDate); ACCESS_TOKEN_TTL is too.
    ttlSeconds: auth.accessTtlMs / 1000,
  });
  const sessions = new SessionService(new SessionsRepository(storage, events), revocations, clock, {
    idleMs: auth.sessionIdleMs,
    absoluteMs: auth.sessionAbsoluteMs,
    accessTtlMs,
  });
  const csrf = new CsrfTokens(config.secretKey);
  const limiter = new LoginLimiter(new LoginAttemptsRepository(storage), config.secretKey, clock, {
    accountFreeFailures: auth.loginThrottle.accountFreeFailures,
    accountBaseLockMs: auth.loginThrottle.accountFirstLockMs,
    accountMaxLockMs: auth.loginThrottle.accountMaxLockMs,
    ipMaxFailures: auth.loginThrottle.ipMaxFailures,
    ipWindowMs: auth.loginThrottle.ipWindowMs,
  });
  const service = new AuthService({
    users,
    passwords,
    refreshTokens: new RefreshTokensRepository(storage),
    sessions,
    view,
    accessTokens,
    csrf,
    limiter,
    clock,
    logger,
    secretKey: config.secretKey,
    refreshTtlMs: auth.refreshTtlMs,
    refreshGraceMs: auth.refreshReuseGraceMs,
    sessionIdleMs: auth.sessionIdleMs,
  });
  return {
    service,
    keys,
    accessTokens,
    sessions,
    view,
    csrf,
    limiter,
    refresher: new AuthRefresher(view, keys, logger),
    async init() {
      await keys.init();
      await view.refreshNow();
    },
  };
}
