import type { Clock } from '../clock.js';
import type { LoginAttemptsRepository } from '../db/repositories/login-attempts.js';
import { AppError } from '../errors.js';
import { deriveKey, hmac } from '../tokens/secrets.js';

export interface LoginLimiterOptions {
  /** Failures per account before back-off starts (LOGIN_ACCOUNT_FREE_FAILURES, default 5). */
  readonly accountFreeFailures: number;
  /** First lock after the free failures, in ms (LOGIN_ACCOUNT_FIRST_LOCK, default 1000); doubles with each further failure. */
  readonly accountBaseLockMs?: number;
  /** Longest per-account lock in ms (LOGIN_ACCOUNT_MAX_LOCK, default 15 min). */
  readonly accountMaxLockMs: number;
  /** An account's counter starts over once its window is this old (default 1 h). */
  readonly accountWindowMs?: number;
  /** Failures per IP within a window before the IP is locked until the window ends (default 100). */
  readonly ipMaxFailures: number;
  /** Per-IP window in ms (LOGIN_IP_WINDOW, default 15 min). */
  readonly ipWindowMs: number;
}

/** A granted login attempt: settle it with succeeded() or leave it counted as a failure. */
export interface LoginAttempt {
  /** The password was right: clears the account's counter and gives the IP its attempt back. */
  succeeded(): Promise<void>;
}

/**
 * Limits failed logins per account (exponential back-off, capped) and per IP
 * (a fixed window). Counters live in the database, so the limit holds across
 * instances. Accounts are keyed by an HMAC of the normalised email, so a
 * password typed into the email field is never stored.
 */
export class LoginLimiter {
  private readonly keyKey: Buffer;

  constructor(
    private readonly attempts: LoginAttemptsRepository,
    secretKey: string,
    private readonly clock: Clock,
    private readonly options: LoginLimiterOptions,
  ) {
    this.keyKey = deriveKey(secretKey, 'login-attempts');
  }

  /**
   * Reserves one attempt for the account and the IP *before* the password is
   * checked (LoginAttemptsRepository.reserve: one atomic upsert each, across
   * instances), so concurrent wrong logins cannot run more password checks
   * than the limit: the attempt that reaches the free failures sets the lock
   * in the same statement, and every later one is refused until it ends.
   * Throws RATE_LIMITED (with Retry-After) when either counter is locked;
   * nothing is counted then (an IP reservation already made is given back).
   * A granted attempt counts as a failure unless `succeeded()` is called.
   */
  async reserve(email: string, ip: string): Promise<LoginAttempt> {
    const now = this.clock.now();
    const byIp = await this.attempts.reserve('ip', ip, now, {
      afterAttempts: this.options.ipMaxFailures,
      lockMs: [0],
      untilWindowEnd: true,
      windowMs: this.options.ipWindowMs,
    });
    if (!byIp.granted) throw this.limited(byIp.lockedUntil, now);
    const accountKey = this.accountKey(email);
    const account = await this.attempts.reserve('account', accountKey, now, {
      afterAttempts: this.options.accountFreeFailures,
      lockMs: this.lockSteps,
      windowMs: this.options.accountWindowMs ?? 3_600_000,
    });
    if (!account.granted) {
      await this.attempts.refund('ip', ip, now);
      throw this.limited(account.lockedUntil, now);
    }
    return {
      succeeded: async () => {
        const at = this.clock.now();
        await Promise.all([this.attempts.clear('account', accountKey), this.attempts.refund('ip', ip, at)]);
      },
    };
  }

  /** Account lock lengths: base, 2 x base, ... up to the cap (the last entry repeats). */
  private get lockSteps(): number[] {
    const base = this.options.accountBaseLockMs ?? 1000;
    const steps: number[] = [];
    for (let exponent = 0; exponent <= 30; exponent += 1) {
      const ms = Math.min(base * 2 ** exponent, this.options.accountMaxLockMs);
      steps.push(ms);
      if (ms >= this.options.accountMaxLockMs) break;
    }
    return steps;
  }

  private limited(until: number, now: number): AppError {
    const seconds = Math.max(1, Math.ceil((until - now) / 1000));
    return new AppError('RATE_LIMITED', `Too many failed logins; try again in ${seconds} s.`, {
      headers: { 'retry-after': String(seconds) },
    });
  }

  /**
   * Read-only: throws RATE_LIMITED (with Retry-After) while the account or the IP is
   * locked. Prefer reserve() before a password check: check() then
   * recordFailure() can be raced (issue 16 #6). Returns whether any counter exists, so success can skip clearing.
   */
  async check(email: string, ip: string): Promise<{ hasCounters: boolean }> {
    const now = this.clock.now();
    const { until, exists } = await this.attempts.lockedUntil([
      { scope: 'account', key: this.accountKey(email) },
      { scope: 'ip', key: ip },
    ]);
    if (until > now) {
      const seconds = Math.max(1, Math.ceil((until - now) / 1000));
      throw new AppError('RATE_LIMITED', `Too many failed logins; try again in ${seconds} s.`, {
        headers: { 'retry-after': String(seconds) },
      });
    }
    return { hasCounters: exists };
  }

  /** Counts one failure after the fact (for callers that did not reserve()). */
  async recordFailure(email: string, ip: string): Promise<void> {
    const now = this.clock.now();
    const accountKey = this.accountKey(email);
    const accountWindow = this.options.accountWindowMs ?? 3_600_000;
    const [account, byIp] = await Promise.all([
      this.attempts.recordFailure('account', accountKey, now, now - accountWindow),
      this.attempts.recordFailure('ip', ip, now, now - this.options.ipWindowMs),
    ]);
    const over = account.failures - this.options.accountFreeFailures;
    if (over >= 0) {
      const lockMs = Math.min((this.options.accountBaseLockMs ?? 1000) * 2 ** Math.min(over, 30), this.options.accountMaxLockMs);
      await this.attempts.lock('account', accountKey, now + lockMs);
    }
    if (byIp.failures >= this.options.ipMaxFailures) {
      await this.attempts.lock('ip', ip, byIp.windowStartedAt + this.options.ipWindowMs);
    }
  }

  /** Clears the account's counter after a successful login (the IP's stays). */
  async recordSuccess(email: string): Promise<void> {
    await this.attempts.clear('account', this.accountKey(email));
  }

  private accountKey(email: string): string {
    return hmac(this.keyKey, email);
  }
}
