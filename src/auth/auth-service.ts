import { normaliseEmail } from '../accounts/public-user.js';
import type { PasswordHasher } from '../accounts/passwords.js';
import type { Clock } from '../clock.js';
import type { RefreshTokensRepository } from '../db/repositories/refresh-tokens.js';
import type { SessionRow } from '../db/repositories/sessions.js';
import type { UserRow, UsersRepository } from '../db/repositories/users.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RevocationView } from '../sessions/revocation-view.js';
import type { SessionService } from '../sessions/sessions.js';
import type { AccessClaims, AccessTokens } from '../tokens/access-tokens.js';
import { deriveKey, hashToken, hmac, randomToken } from '../tokens/secrets.js';
import type { CsrfTokens } from './csrf.js';
import type { LoginLimiter } from './login-limiter.js';

/** Where a request came from, recorded on the session. */
export interface ClientInfo {
  readonly ip: string;
  readonly userAgent: string | undefined;
}

/** Everything a login or refresh hands to the client (as cookies). */
export interface IssuedTokens {
  readonly sessionId: string;
  readonly accessToken: string;
  /** Epoch ms. */
  readonly accessExpiresAt: number;
  readonly refreshToken: string;
  /** Epoch ms: the refresh token and CSRF cookie live until the session's absolute expiry. */
  readonly refreshExpiresAt: number;
  readonly csrfToken: string;
}

export interface AuthResult {
  readonly user: UserRow;
  readonly tokens: IssuedTokens;
}

export interface AuthServiceDeps {
  readonly users: UsersRepository;
  readonly passwords: PasswordHasher;
  readonly refreshTokens: RefreshTokensRepository;
  readonly sessions: SessionService;
  readonly view: RevocationView;
  readonly accessTokens: AccessTokens;
  readonly csrf: CsrfTokens;
  readonly limiter: LoginLimiter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly secretKey: string;
  readonly refreshTtlMs: number;
  readonly refreshGraceMs: number;
  readonly sessionIdleMs: number;
}

const INVALID_CREDENTIALS = 'The email or password is incorrect, or the account is not active.';

/** Login, refresh-token rotation, logout and access-token verification. */
export class AuthService {
  private readonly successorKey: Buffer;
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: AuthServiceDeps) {
    this.successorKey = deriveKey(deps.secretKey, 'refresh-successor');
  }

  /**
   * Checks the password of an active user and opens a session. Throws
   * INVALID_CREDENTIALS (same message for an unknown email, a wrong password
   * and an inactive account) or RATE_LIMITED. Outdated hashes are upgraded.
   */
  async login(emailInput: string, password: string, client: ClientInfo): Promise<AuthResult> {
    const { users, passwords, limiter } = this.deps;
    const email = normaliseEmail(emailInput);
    // Reserved before the hash: concurrent wrong guesses cannot outrun the lock (issue 16 #6).
    const attempt = await limiter.reserve(email, client.ip);
    const user = await users.findByEmail(email);
    // An unknown email costs a hash check too, so timing does not reveal which emails exist.
    const ok = await passwords.verify(user?.password_hash ?? (await this.dummy()), password);
    // A wrong password stays counted; the right one (even for an inactive account) is no guess.
    if (!user || !ok) {
      await attempt.failed();
      throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    }
    await attempt.succeeded();
    if (user.activated_at === null || user.deactivated_at !== null) throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);

    const now = this.deps.clock.now();
    if (passwords.needsRehash(user.password_hash)) {
      await users.updatePasswordHash(user.id, await passwords.hash(password), now);
    }
    await users.recordLogin(user.id, now);
    const session = await this.deps.sessions.create({ userId: user.id, userAgent: client.userAgent, ip: client.ip });
    const refreshToken = randomToken();
    const refreshExpiresAt = Math.min(now + this.deps.refreshTtlMs, session.absolute_expires_at);
    await this.deps.refreshTokens.insert({
      tokenHash: hashToken(refreshToken),
      sessionId: session.id,
      userId: user.id,
      now,
      expiresAt: refreshExpiresAt,
    });
    return { user: { ...user, last_login_at: now }, tokens: await this.tokensFor(user, session, refreshToken) };
  }

  /**
   * Rotates a refresh token (see RefreshTokensRepository.rotate for the race
   * rules). A rotated token presented again within the grace yields the same
   * successor; after the grace the whole session is revoked (theft).
   */
  async refresh(refreshToken: string): Promise<AuthResult> {
    const successor = hmac(this.successorKey, refreshToken);
    const outcome = await this.deps.refreshTokens.rotate({
      tokenHash: hashToken(refreshToken),
      successorHash: hashToken(successor),
      now: this.deps.clock.now(),
      graceMs: this.deps.refreshGraceMs,
      refreshTtlMs: this.deps.refreshTtlMs,
      idleMs: this.deps.sessionIdleMs,
    });
    switch (outcome.kind) {
      case 'invalid':
        throw new AppError('INVALID_TOKEN', 'The refresh token is invalid or expired.');
      case 'session-ended':
        throw new AppError('SESSION_EXPIRED', 'The session has ended; log in again.');
      case 'reused':
        await this.deps.sessions.revoke(outcome.sessionId, 'refresh-token-reuse');
        this.deps.logger.warn({ sessionId: outcome.sessionId }, 'rotated refresh token reused after the grace; session revoked');
        throw new AppError('INVALID_TOKEN', 'The refresh token was already used; the session has been revoked.');
      case 'rotated':
      case 'successor':
        break;
    }
    const { session } = outcome;
    if (this.deps.view.isRevoked(session.id, session.user_id, session.created_at)) {
      throw new AppError('SESSION_EXPIRED', 'The session has ended; log in again.');
    }
    const user = (outcome.kind === 'rotated' ? outcome.user : undefined) ?? (await this.deps.users.findById(session.user_id));
    if (!user || user.activated_at === null || user.deactivated_at !== null) {
      await this.deps.sessions.revoke(session.id, 'user-inactive');
      throw new AppError('SESSION_EXPIRED', 'The session has ended; log in again.');
    }
    return { user, tokens: await this.tokensFor(user, session, successor) };
  }

  /**
   * Revokes the session and its refresh tokens, then reloads this instance's
   * revocation view before answering, so the logged-out access token is
   * refused here at once (other instances: within the view's refresh period).
   */
  async logout(sessionId: string): Promise<void> {
    await this.deps.sessions.revoke(sessionId, 'logout');
    await this.deps.view.refreshNow();
  }

  /** Claims of a valid, unrevoked access token, or undefined. No database query. */
  async verifyAccessToken(token: string): Promise<AccessClaims | undefined> {
    return this.deps.accessTokens.verify(token);
  }

  /** verifyAccessToken() without a promise for a token already verified here; null when only it can tell. */
  verifyCachedAccessToken(token: string): AccessClaims | undefined | null {
    return this.deps.accessTokens.verifyCached(token);
  }

  private async tokensFor(user: UserRow, session: SessionRow, refreshToken: string): Promise<IssuedTokens> {
    const access = await this.deps.accessTokens.issue({
      userId: user.id,
      email: user.email,
      role: user.role,
      sessionId: session.id,
      sessionCreatedAt: session.created_at,
    });
    return {
      sessionId: session.id,
      accessToken: access.token,
      accessExpiresAt: access.expiresAt,
      refreshToken,
      refreshExpiresAt: Math.min(this.deps.clock.now() + this.deps.refreshTtlMs, session.absolute_expires_at),
      csrfToken: this.deps.csrf.issue(session.id),
    };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.deps.passwords.hash(randomToken());
    return this.dummyHash;
  }
}
