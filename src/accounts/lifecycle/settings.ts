import { createHash } from 'node:crypto';
import { AccountTokensRepository } from '../../db/repositories/account-tokens.js';
import { AccountTombstonesRepository } from '../../db/repositories/account-tombstones.js';
import { UsersAdminRepository } from '../../db/repositories/users-admin.js';
import { UsersRepository, type UserRow } from '../../db/repositories/users.js';
import { transaction } from '../../db/transaction.js';
import { AppError } from '../../errors.js';
import { hashActivationToken, looksLikeActivationToken, newActivationToken } from '../activation.js';
import { normaliseEmail } from '../public-user.js';
import { parseEmail } from '../registration-input.js';
import { emailChangedNotice, emailChangeMail, emailConfirmUrl, passwordChangedNotice } from './mails.js';
import type { Caller, LifecycleDeps } from './types.js';

/** The tombstone key of an address: SHA-256 of its normalised form (the address itself is not kept). */
export function tombstoneHash(email: string): string {
  return createHash('sha256').update(normaliseEmail(email), 'utf8').digest('hex');
}

/** What a signed-in user changes about their own account: password, e-mail, existence. */
export class AccountSettings {
  private readonly users: UsersRepository;
  private readonly tombstones: AccountTombstonesRepository;

  constructor(private readonly deps: LifecycleDeps) {
    this.users = new UsersRepository(deps.storage);
    this.tombstones = new AccountTombstonesRepository(deps.storage);
  }

  /**
   * The caller's row after checking their current password. A wrong one
   * counts as a failed login (same lock-out) and throws PASSWORD_INCORRECT.
   */
  private async verifiedCaller(caller: Caller, password: unknown): Promise<UserRow> {
    const user = await this.users.findById(caller.userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'The user no longer exists.');
    await this.deps.logins.check(user.email, caller.ip);
    const ok = typeof password === 'string' && (await this.deps.passwords.verify(user.password_hash, password));
    if (!ok) {
      await this.deps.logins.recordFailure(user.email, caller.ip);
      throw new AppError('PASSWORD_INCORRECT', 'The current password is incorrect.');
    }
    return user;
  }

  /**
   * Changes the caller's password (policy applies) and ends their other
   * sessions, keeping this one; a notice goes to the address. Returns how
   * many sessions ended. Throws PASSWORD_INCORRECT, VALIDATION_FAILED,
   * PASSWORD_TOO_WEAK or RATE_LIMITED.
   */
  async changePassword(caller: Caller, currentPassword: unknown, newPassword: unknown): Promise<number> {
    const { clock, storage, passwords, policy, mail, sessions, logger } = this.deps;
    const user = await this.verifiedCaller(caller, currentPassword);
    if (newPassword === currentPassword) throw new AppError('VALIDATION_FAILED', 'new_password must differ from current_password.');
    const checked = await policy.check(newPassword, user.email);
    const passwordHash = await passwords.hash(checked);
    const now = clock.now();
    const notice = await passwordChangedNotice(user.email, 'signed in');
    await transaction(storage, async (tx) => {
      await new UsersRepository(tx).updatePasswordHash(user.id, passwordHash, now);
      // A reset link issued before the change must not undo it.
      await new AccountTokensRepository(tx).invalidate(user.id, 'password-reset', now);
      await mail.enqueue(notice, { trx: tx });
    });
    mail.wake();
    const ended = await sessions.revokeOthers(user.id, caller.sessionId);
    logger.info({ userId: user.id, endedSessions: ended }, 'password changed; other sessions revoked');
    return ended;
  }

  /**
   * Starts an e-mail change: after the password check, a confirmation link
   * goes to the new address (earlier links are invalidated). An address that
   * already has an account gets no mail and the answer is the same, so the
   * route cannot be used to probe addresses. Throws VALIDATION_FAILED,
   * PASSWORD_INCORRECT or RATE_LIMITED.
   */
  async requestEmailChange(caller: Caller, newEmailInput: unknown, password: unknown): Promise<void> {
    const { config, clock, storage, mail, logger, throttle } = this.deps;
    const newEmail = parseEmail(newEmailInput);
    await throttle.hit('email-change', caller.ip, newEmail);
    const user = await this.verifiedCaller(caller, password);
    if (newEmail === user.email) throw new AppError('VALIDATION_FAILED', 'new_email is the current address.');
    if (await this.users.findByEmail(newEmail)) {
      logger.info({ userId: user.id }, 'e-mail change to an address that has an account: no mail sent');
      return;
    }
    const token = newActivationToken();
    const now = clock.now();
    const ttlMs = config.accounts.emailChangeTtlMs;
    const message = await emailChangeMail(newEmail, user.email, emailConfirmUrl(config.publicUrl, token), ttlMs);
    await transaction(storage, async (tx) => {
      const tokens = new AccountTokensRepository(tx);
      await tokens.invalidate(user.id, 'email-change', now);
      await tokens.insert({ userId: user.id, purpose: 'email-change', tokenHash: hashActivationToken(token), newEmail, createdAt: now, expiresAt: now + ttlMs });
      await mail.enqueue(message, { trx: tx });
    });
    mail.wake();
    logger.info({ userId: user.id }, 'e-mail change requested; confirmation mail queued');
  }

  /**
   * Switches the address with the link from the confirmation mail (single
   * use, race-safe) and sends a notice to the old address. Throws
   * EMAIL_CHANGE_INVALID, EMAIL_CHANGE_EXPIRED or EMAIL_TAKEN (someone
   * registered the address meanwhile; the unique index decides).
   */
  async confirmEmailChange(token: string): Promise<UserRow> {
    const { clock, storage, mail, logger } = this.deps;
    const invalid = new AppError('EMAIL_CHANGE_INVALID', 'This e-mail confirmation link is invalid or has already been used.');
    if (!looksLikeActivationToken(token)) throw invalid;
    const row = await new AccountTokensRepository(storage).findByHash(hashActivationToken(token));
    if (!row || row.purpose !== 'email-change' || row.used_at !== null || row.new_email === null) throw invalid;
    const now = clock.now();
    if (row.expires_at <= now) throw new AppError('EMAIL_CHANGE_EXPIRED', 'This e-mail confirmation link has expired; ask for the change again.');
    const user = await this.users.findById(row.user_id);
    if (!user) throw invalid;
    const newEmail = row.new_email;
    const notice = await emailChangedNotice(user.email, newEmail);
    const switched = await transaction(storage, async (tx) => {
      if (!(await new AccountTokensRepository(tx).consume(row.id, now))) return undefined;
      if (!(await new UsersAdminRepository(tx).updateEmail(user.id, newEmail, now))) {
        throw new AppError('EMAIL_TAKEN', 'An account with this email already exists.');
      }
      await mail.enqueue(notice, { trx: tx });
      return new UsersRepository(tx).findById(user.id);
    });
    if (!switched) throw invalid;
    mail.wake();
    logger.info({ userId: user.id }, 'e-mail address changed; notice queued to the old address');
    return switched;
  }

  /**
   * Deletes the caller's account after the password check: every session
   * ends first (access tokens within a view refresh), then one transaction
   * writes the tombstone, runs the account-deleted hooks and deletes the
   * user (sessions, refresh tokens, links and presence go by cascade).
   * Throws PASSWORD_INCORRECT or RATE_LIMITED.
   */
  async deleteAccount(caller: Caller, password: unknown): Promise<void> {
    const { clock, storage, sessions, hooks, logger } = this.deps;
    const user = await this.verifiedCaller(caller, password);
    await sessions.logoutUser(user.id);
    await transaction(storage, async (tx) => {
      await new AccountTombstonesRepository(tx).record(tombstoneHash(user.email), clock.now());
      await hooks.accountDeleted({ userIds: [user.id], reason: 'deleted', storage: tx });
      await new UsersAdminRepository(tx).delete(user.id);
    });
    logger.info({ userId: user.id }, 'account deleted by its owner; tombstone kept');
  }

  /** True when an account with this address was deleted (suppression lists, unsubscribe). */
  async isTombstoned(email: string): Promise<boolean> {
    return (await this.tombstones.deletedAt(tombstoneHash(email))) !== undefined;
  }
}
