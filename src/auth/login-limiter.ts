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

/** A granted login attempt: settle it with succeeded() or failed(); an unsettled one stays counted as a failure. */
export interface LoginAttempt {
  /** The password was right: clears the account's counter and gives the IP its attempt back. */
  succeeded(): Promise<void>;
  /**
   * The password was wrong (or the account unknown): records the failure as
   * settled. The reservation already counts toward the lock; this only lets
   * a later refusal tell failures from attempts still in flight.
   */
  failed(): Promise<void>;
}

/** Retry-After for a refusal due to attempts in flight: they settle within a password check. */
const IN_FLIGHT_RETRY_SECONDS = 1;

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
   * The refusal says why: "Too many failed logins" when the settled failures
   * reached the limit, "too many login attempts in progress" (Retry-After
   * 1 s) when the lock comes from reservations whose passwords are still
   * being checked, e.g. a sixth simultaneous correct login. A granted
   * attempt counts as a failure unless `succeeded()` is called; a success
   * releases it (the account counter is cleared, the IP's attempt refunded).
   */
  async reserve(email: string, ip: string): Promise<LoginAttempt> {
    const now = this.clock.now();
    const byIp = await this.attempts.reserve('ip', ip, now, {
      afterAttempts: this.options.ipMaxFailures,
      lockMs: [0],
      untilWindowEnd: true,
      windowMs: this.options.ipWindowMs,
    });
    if (!byIp.granted) throw await this.refusal('ip', ip, byIp.lockedUntil, now);
    const accountKey = this.accountKey(email);
    const account = await this.attempts.reserve('account', accountKey, now, {
      afterAttempts: this.options.accountFreeFailures,
      lockMs: this.lockSteps,
      windowMs: this.accountWindowMs,
    });
    if (!account.granted) {
      await this.attempts.refund('ip', ip, now, this.options.ipMaxFailures);
      throw await this.refusal('account', accountKey, account.lockedUntil, now);
    }
    return {
      succeeded: async () => {
        const at = this.clock.now();
        await Promise.all([this.attempts.clear('account', accountKey), this.attempts.refund('ip', ip, at, this.options.ipMaxFailures)]);
      },
      failed: async () => {
        const at = this.clock.now();
        await Promise.all([
          this.attempts.recordSettledFailure('account', accountKey, at, at - this.accountWindowMs),
          this.attempts.recordSettledFailure('ip', ip, at, at - this.options.ipWindowMs),
        ]);
      },
    };
  }

  private get accountWindowMs(): number {
    return this.options.accountWindowMs ?? 3_600_000;
  }

  /**
   * The honest refusal for a locked counter: failures when the settled
   * failures in the window reached the limit; otherwise attempts still in
   * flight hold the lock (they settle within a password check, and a success
   * releases it), so a short Retry-After. The lock itself is unchanged: no
   * more password checks run either way.
   */
  private async refusal(scope: 'account' | 'ip', key: string, lockedUntil: number, now: number): Promise<AppError> {
    const [limit, windowMs] = scope === 'account' ? [this.options.accountFreeFailures, this.accountWindowMs] : [this.options.ipMaxFailures, this.options.ipWindowMs];
    if ((await this.attempts.settledFailures(scope, key, now - windowMs)) >= limit) return this.limited(lockedUntil, now);
    return new AppError('RATE_LIMITED', `Too many login attempts are in progress; try again in ${IN_FLIGHT_RETRY_SECONDS} s.`, {
      headers: { 'retry-after': String(IN_FLIGHT_RETRY_SECONDS) },
    });
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
    const counters = [
      { scope: 'account', key: this.accountKey(email) },
      { scope: 'ip', key: ip },
    ] as const;
    const { until, exists } = await this.attempts.lockedUntil(counters);
    if (until > now) {
      // Locked: say why as reserve() does (settled failures, or logins still in flight).
      for (const counter of counters) {
        const one = await this.attempts.lockedUntil([counter]);
        if (one.until > now) throw await this.refusal(counter.scope, counter.key, one.until, now);
      }
      throw this.limited(until, now);
    }
    return { hasCounters: exists };
  }

  /** Counts one failure after the fact (for callers that did not reserve()). */
  async recordFailure(email: string, ip: string): Promise<void> {
    const now = this.clock.now();
    const accountKey = this.accountKey(email);
    const accountWindow = this.accountWindowMs;
    const [account, byIp] = await Promise.all([
      this.attempts.recordFailure('account', accountKey, now, now - accountWindow),
      this.attempts.recordFailure('ip', ip, now, now - this.options.ipWindowMs),
      this.attempts.recordSettledFailure('account', accountKey, now, now - accountWindow),
      this.attempts.recordSettledFailure('ip', ip, now, now - this.options.ipWindowMs),
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
