import type { Clock } from '../../clock.js';
import type { AccountMailThrottleRepository } from '../../db/repositories/account-mail-throttle.js';
import { AppError } from '../../errors.js';
import { deriveKey, hmac } from '../../tokens/secrets.js';

/** The account-mail actions, each counted on its own. */
export type MailAction = 'resend' | 'reset' | 'email-change' | 'reset-confirm';

export interface MailThrottleOptions {
  /** Requests per address per window (ACCOUNT_MAIL_ADDRESS_MAX, default 3). */
  readonly addressMax: number;
  /** Requests per IP per window (ACCOUNT_MAIL_IP_MAX, default 30). */
  readonly ipMax: number;
  /** Window length in ms (ACCOUNT_MAIL_WINDOW, default 15 min). */
  readonly windowMs: number;
}

/**
 * Limits resend, reset and e-mail-change requests per address and per IP in
 * fixed windows, counted in the database (so the limit holds across
 * instances). Every request counts, whether or not the address has an
 * account, so a 429 tells nothing about which addresses exist. Addresses are
 * keyed by an HMAC, never stored.
 */
export class AccountMailThrottle {
  private readonly keyKey: Buffer;

  constructor(
    private readonly repository: AccountMailThrottleRepository,
    secretKey: string,
    private readonly clock: Clock,
    private readonly options: MailThrottleOptions,
  ) {
    this.keyKey = deriveKey(secretKey, 'account-mail-throttle');
  }

  /** Counts the request; throws RATE_LIMITED (with Retry-After) when the address or the IP is over its limit. */
  async hit(action: MailAction, ip: string, email?: string): Promise<void> {
    const now = this.clock.now();
    const windowStartedAfter = now - this.options.windowMs;
    const counters = [this.repository.hit(`ip:${action}`, ip, now, windowStartedAfter).then((c) => ({ ...c, max: this.options.ipMax }))];
    if (email !== undefined) {
      counters.push(this.repository.hit(`address:${action}`, hmac(this.keyKey, email), now, windowStartedAfter).then((c) => ({ ...c, max: this.options.addressMax })));
    }
    const over = (await Promise.all(counters)).filter((counter) => counter.count > counter.max);
    if (over.length === 0) return;
    const until = Math.max(...over.map((counter) => counter.windowStartedAt + this.options.windowMs));
    const seconds = Math.max(1, Math.ceil((until - now) / 1000));
    throw new AppError('RATE_LIMITED', `Too many requests for this address or from this network; try again in ${seconds} s.`, {
      headers: { 'retry-after': String(seconds) },
    });
  }
}
