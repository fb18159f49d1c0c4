import { ActivationTokensRepository } from '../../db/repositories/activation-tokens.js';
import { AccountTokensRepository } from '../../db/repositories/account-tokens.js';
import { UsersRepository, type UserRow } from '../../db/repositories/users.js';
import { transaction } from '../../db/transaction.js';
import { AppError } from '../../errors.js';
import { activationMail, activationUrl, hashActivationToken, looksLikeActivationToken, newActivationToken } from '../activation.js';
import { parseEmail } from '../registration-input.js';
import { passwordChangedNotice, passwordResetMail, passwordResetUrl } from './mails.js';
import type { LifecycleDeps } from './types.js';

/** What `resendActivation` did (the CLI prints it; the HTTP route never tells). */
export type ResendOutcome = 'sent' | 'already-active' | 'deactivated' | 'unknown';

/**
 * Resend activation and password reset. The request methods answer the same
 * whether or not an account exists: they validate, count the request against
 * the throttle, and leave the lookup and the mail to deferred work.
 */
export class AccountRecovery {
  private readonly users: UsersRepository;
  private readonly tokens: AccountTokensRepository;

  constructor(private readonly deps: LifecycleDeps) {
    this.users = new UsersRepository(deps.storage);
    this.tokens = new AccountTokensRepository(deps.storage);
  }

  /** POST /activate/resend/: VALIDATION_FAILED or RATE_LIMITED, else a new link goes out later (if there is an account to activate). */
  async requestActivationResend(emailInput: unknown, ip: string): Promise<void> {
    const email = parseEmail(emailInput);
    await this.deps.throttle.hit('resend', ip, email);
    this.deps.deferred.run('resend-activation', async () => {
      await this.resendActivation(email);
    });
  }

  /**
   * Sends a new activation link to a never-activated account and invalidates
   * its earlier links, in one transaction with the outbox row. Used directly
   * by `curfew users resend-activation`.
   */
  async resendActivation(emailInput: string): Promise<ResendOutcome> {
    const { config, clock, storage, mail, logger } = this.deps;
    const email = parseEmail(emailInput);
    const user = await this.users.findByEmail(email);
    if (!user) return 'unknown';
    if (user.deactivated_at !== null) return 'deactivated';
    if (user.activated_at !== null) return 'already-active';
    const token = newActivationToken();
    const now = clock.now();
    await transaction(storage, async (tx) => {
      const links = new ActivationTokensRepository(tx);
      await links.invalidateForUser(user.id, now);
      await links.insert({ userId: user.id, tokenHash: hashActivationToken(token), createdAt: now, expiresAt: now + config.auth.activationTtlMs });
      await mail.enqueue(activationMail(user.email, activationUrl(config.publicUrl, token), config.auth.activationTtlMs), { trx: tx });
    });
    mail.wake();
    logger.info({ userId: user.id }, 'activation mail re-sent; earlier links invalidated');
    return 'sent';
  }

  /** POST /password/reset/: VALIDATION_FAILED or RATE_LIMITED, else a reset mail goes out later (if the account can sign in). */
  async requestPasswordReset(emailInput: unknown, ip: string): Promise<void> {
    const email = parseEmail(emailInput);
    await this.deps.throttle.hit('reset', ip, email);
    this.deps.deferred.run('password-reset', async () => {
      await this.sendPasswordReset(email);
    });
  }

  /** Issues a reset token (hashed at rest; earlier ones invalidated) and queues its mail. False when there is no active account. */
  async sendPasswordReset(email: string): Promise<boolean> {
    const { config, clock, storage, mail, logger } = this.deps;
    const user = await this.users.findByEmail(email);
    if (!user || user.activated_at === null || user.deactivated_at !== null) return false;
    const token = newActivationToken();
    const now = clock.now();
    const ttlMs = config.accounts.passwordResetTtlMs;
    // Rendered before the transaction, so no write lock waits on a template.
    const message = await passwordResetMail(user.email, passwordResetUrl(config.accounts.passwordResetUrl, token), token, ttlMs);
    await transaction(storage, async (tx) => {
      const tokens = new AccountTokensRepository(tx);
      await tokens.invalidate(user.id, 'password-reset', now);
      await tokens.insert({ userId: user.id, purpose: 'password-reset', tokenHash: hashActivationToken(token), newEmail: null, createdAt: now, expiresAt: now + ttlMs });
      await mail.enqueue(message, { trx: tx });
    });
    mail.wake();
    logger.info({ userId: user.id }, 'password reset mail queued');
    return true;
  }

  /**
   * Sets a new password with a reset token: single use (race-safe), refused
   * when unknown, tampered, used, replaced or expired, and for an account
   * that was deactivated since. Every session of the user ends (access tokens
   * within a view refresh), and a login lock-out is cleared. Throws
   * RESET_TOKEN_INVALID, RESET_TOKEN_EXPIRED, VALIDATION_FAILED,
   * PASSWORD_TOO_WEAK or RATE_LIMITED.
   */
  async confirmPasswordReset(token: unknown, password: unknown, ip: string): Promise<UserRow> {
    const { clock, storage, passwords, policy, mail, sessions, logins, logger, throttle } = this.deps;
    await throttle.hit('reset-confirm', ip);
    const invalid = new AppError('RESET_TOKEN_INVALID', 'This password-reset token is invalid or has already been used.');
    if (typeof token !== 'string' || !looksLikeActivationToken(token)) throw invalid;
    const row = await this.tokens.findByHash(hashActivationToken(token));
    if (!row || row.purpose !== 'password-reset' || row.used_at !== null) throw invalid;
    if (row.expires_at <= clock.now()) throw new AppError('RESET_TOKEN_EXPIRED', 'This password-reset token has expired; ask for a new one.');
    const user = await this.users.findById(row.user_id);
    if (!user || user.deactivated_at !== null) throw invalid;
    const checked = await policy.check(password, user.email);
    const passwordHash = await passwords.hash(checked);
    const now = clock.now();
    const notice = await passwordChangedNotice(user.email, 'reset link');
    const consumed = await transaction(storage, async (tx) => {
      const tokens = new AccountTokensRepository(tx);
      if (!(await tokens.consume(row.id, now))) return false;
      await tokens.invalidate(user.id, 'password-reset', now);
      await new UsersRepository(tx).updatePasswordHash(user.id, passwordHash, now);
      await mail.enqueue(notice, { trx: tx });
      return true;
    });
    if (!consumed) throw invalid;
    mail.wake();
    await sessions.logoutUser(user.id);
    await logins.recordSuccess(user.email);
    logger.info({ userId: user.id }, 'password reset; every session of the user revoked');
    return user;
  }
}
