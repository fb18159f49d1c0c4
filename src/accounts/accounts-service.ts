import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import { ActivationTokensRepository } from '../db/repositories/activation-tokens.js';
import { UsersRepository, type UserRow } from '../db/repositories/users.js';
import { transaction } from '../db/transaction.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MailMessage } from '../mail/mailer.js';
import { activationMail, activationUrl, hashActivationToken, looksLikeActivationToken, newActivationToken } from './activation.js';
import type { PasswordHasher } from './passwords.js';
import type { PasswordPolicy } from './password-policy.js';
import { parseEmail, parseRegistration } from './registration-input.js';

/** The part of the mail service accounts need. */
export interface MailQueue {
  enqueue(message: MailMessage, options?: { trx?: Storage }): Promise<number>;
  wake(): void;
}

export interface AccountsServiceOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly passwords: PasswordHasher;
  readonly mail: MailQueue;
  /** The password policy (length, zxcvbn strength); register and `users create` apply it. */
  readonly policy: PasswordPolicy;
  /** Runs inside the activation transaction (sequence auto-enrollment); default none. */
  readonly onActivated?: (tx: Storage, userId: number) => Promise<void>;
}

export interface NewAccount {
  readonly email: string;
  readonly password: string;
  readonly role: 'user' | 'admin';
}

function emailTaken(): AppError {
  return new AppError('EMAIL_TAKEN', 'An account with this email already exists.');
}

/** Registration, activation and operator-created accounts. */
export class AccountsService {
  private readonly users: UsersRepository;
  private readonly activationTokens: ActivationTokensRepository;

  constructor(private readonly options: AccountsServiceOptions) {
    this.users = new UsersRepository(options.storage);
    this.activationTokens = new ActivationTokensRepository(options.storage);
  }

  /**
   * Registers an inactive account. The user, its activation token (stored as
   * a hash) and the activation mail are written in one transaction; the mail
   * is sent later by the outbox sender. Throws VALIDATION_FAILED,
   * UNKNOWN_FIELD, PASSWORD_TOO_WEAK or EMAIL_TAKEN (decided by the unique index, so concurrent
   * registrations of one address yield exactly one account).
   */
  async register(input: { email?: unknown; password?: unknown; profile?: unknown }): Promise<UserRow> {
    const { config, clock, storage, passwords, mail, logger } = this.options;
    const registration = parseRegistration(input, clock.now());
    await this.options.policy.check(registration.password, registration.email);
    // Cheap early answer; the insert below is what decides under a race.
    if (await this.users.findByEmail(registration.email)) throw emailTaken();
    const passwordHash = await passwords.hash(registration.password);
    const token = newActivationToken();
    const url = activationUrl(config.publicUrl, token);
    const now = clock.now();
    const user = await transaction(storage, async (tx) => {
      const inserted = await new UsersRepository(tx).insert({
        email: registration.email,
        passwordHash,
        role: 'user',
        profile: JSON.stringify(registration.profile),
        activatedAt: null,
        now,
      });
      if (!inserted) throw emailTaken();
      await new ActivationTokensRepository(tx).insert({
        userId: inserted.id,
        tokenHash: hashActivationToken(token),
        createdAt: now,
        expiresAt: now + config.auth.activationTtlMs,
      });
      await mail.enqueue(activationMail(inserted.email, url, config.auth.activationTtlMs), { trx: tx });
      return inserted;
    });
    mail.wake();
    logger.info({ userId: user.id }, 'account registered; activation mail queued');
    // The documented development default: no SMTP, so show the link in the log.
    // Never with SMTP configured, and never outside development.
    if (config.env === 'development' && config.mail.smtpUrl === undefined) {
      logger.info({ userId: user.id, activationUrl: url }, `activation link (development, mail written to ${config.dataDir}/mail): ${url}`);
    }
    return user;
  }

  /**
   * Activates the account the token belongs to. Single use, race-safe: of
   * concurrent requests with one token exactly one succeeds. Throws
   * ACTIVATION_INVALID (unknown or used) or ACTIVATION_EXPIRED.
   */
  async activate(token: string): Promise<UserRow> {
    const invalid = new AppError('ACTIVATION_INVALID', 'This activation link is invalid or has already been used.');
    if (!looksLikeActivationToken(token)) throw invalid;
    const row = await this.activationTokens.findByHash(hashActivationToken(token));
    if (!row || row.used_at !== null) throw invalid;
    const now = this.options.clock.now();
    if (row.expires_at <= now) {
      throw new AppError('ACTIVATION_EXPIRED', 'This activation link has expired; register again or ask for a new link.');
    }
    const user = await transaction(this.options.storage, async (tx) => {
      if (!(await new ActivationTokensRepository(tx).consume(row.id, now))) return undefined;
      const users = new UsersRepository(tx);
      await users.activate(row.user_id, now);
      await this.options.onActivated?.(tx, row.user_id);
      return users.findById(row.user_id);
    });
    if (!user) throw invalid;
    this.options.logger.info({ userId: user.id }, 'account activated');
    return user;
  }

  /**
   * Creates an active account directly (the CLI's `users create`, as
   * createsuperuser did). Throws VALIDATION_FAILED,
   * PASSWORD_TOO_WEAK or EMAIL_TAKEN.
   */
  async createActiveUser(account: NewAccount): Promise<UserRow> {
    const email = parseEmail(account.email);
    const password = await this.options.policy.check(account.password, email);
    if (await this.users.findByEmail(email)) throw emailTaken();
    const now = this.options.clock.now();
    const user = await this.users.insert({
      email,
      passwordHash: await this.options.passwords.hash(password),
      role: account.role,
      profile: '{}',
      activatedAt: now,
      now,
    });
    if (!user) throw emailTaken();
    this.options.logger.info({ userId: user.id, role: user.role }, 'account created');
    return user;
  }
}
