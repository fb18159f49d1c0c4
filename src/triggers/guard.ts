import type { Clock } from '../clock.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { checkCredential, type CredentialKind, type CredentialResult, type TriggerRequest } from './credentials.js';
import type { IpAllowlist } from './ip-allowlist.js';
import { throttle, type ThrottleStore } from './throttle.js';

/** Where accepted signatures are remembered (the database, across instances). */
export interface SignatureStore {
  /** False when the signature was already claimed; race-safe. */
  claim(signature: string, expiresAt: number): Promise<boolean>;
  prune(now: number): Promise<number>;
}

export interface TriggerGuardOptions {
  /** Accepted secrets; empty means every trigger answers 503 CRON_NOT_CONFIGURED. */
  readonly secrets: readonly string[];
  /** Accept `?token=` (default false in config). */
  readonly allowQueryToken: boolean;
  readonly allowlist: IpAllowlist;
  /** Requests per window per route and caller (config default 10). */
  readonly throttleMax: number;
  /** Window length in ms (config default 600 000). */
  readonly throttleWindowMs: number;
  readonly clock: Clock;
  readonly throttleStore: ThrottleStore;
  readonly signatureStore: SignatureStore;
  /** How often expired throttle and signature rows are deleted (default 60 000 ms). */
  readonly pruneEveryMs?: number;
}

/** Why the guard said no: an error code, its HTTP status, a message and extra headers. */
export interface GuardRefusal {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly status: number;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A request that passed steps 1-3. */
export type Authenticated = CredentialResult & { readonly ok: true };

export type GuardDecision = { readonly ok: true; readonly kind: CredentialKind } | GuardRefusal;

function refuse(code: ErrorCode, message: string, headers: Readonly<Record<string, string>> = {}): GuardRefusal {
  return { ok: false, code, status: ERROR_CODES[code], message, headers };
}

/** A trigger request as the guard sees it: credential parts plus who and where. */
export interface GuardedRequest extends TriggerRequest {
  /** Client IP (already resolved through X-Forwarded-For when the proxy is trusted). */
  readonly ip: string;
  /** Throttle bucket: the request path without query, e.g. `/cron/jobs/flush-expired-tokens/run`. */
  readonly route: string;
}

/**
 * The trigger routes' gatekeeper. Checks, in this order, and stops at the
 * first failure:
 *
 * 1. a secret is configured, else 503 CRON_NOT_CONFIGURED;
 * 2. the caller IP is in CRON_IP_ALLOWLIST (when set), else 403 IP_NOT_ALLOWED;
 * 3. the credential is valid, else 401 (CRON_UNAUTHORIZED / SIGNATURE_EXPIRED).
 *    Steps 1-3 are pure: a stranger causes no database write at all;
 * 4. a signature was not used before (one insert), else 401 SIGNATURE_REPLAYED;
 * 5. the caller is within the throttle (one upsert), else 429 RATE_LIMITED.
 *
 * Authentication comes before the throttle so a stranger can neither write
 * rows nor spend a legitimate caller's budget.
 */
export class TriggerGuard {
  private nextPruneAt = 0;

  constructor(private readonly options: TriggerGuardOptions) {}

  /** False when no cron secret is configured (triggers fail closed). */
  get configured(): boolean {
    return this.options.secrets.length > 0;
  }

  /**
   * Every step. `throttled: false` skips step 5 (read-only routes such as
   * /cron/status). Returns the credential kind, or the refusal to answer
   * with. Refusals are values, not exceptions: a flood of wrong secrets
   * costs no stack traces.
   */
  async admit(
    request: GuardedRequest,
    options: { readonly throttled: boolean; readonly authenticated?: Authenticated },
  ): Promise<GuardDecision> {
    const result = options.authenticated ?? this.authenticate(request);
    if (!result.ok) return result;
    const now = this.options.clock.now();
    await this.pruneWhenDue(now);
    if (result.replay !== undefined) {
      const fresh = await this.options.signatureStore.claim(result.replay.signature, result.replay.expiresAt);
      if (!fresh) return refuse('SIGNATURE_REPLAYED', 'This signature was already used; sign each request anew.');
    }
    if (options.throttled) {
      const decision = await throttle(
        this.options.throttleStore,
        { route: request.route, caller: request.ip },
        { max: this.options.throttleMax, windowMs: this.options.throttleWindowMs, now },
      );
      if (!decision.allowed) {
        return refuse('RATE_LIMITED', `Too many trigger requests; try again in ${decision.retryAfterSeconds} s.`, {
          'retry-after': String(decision.retryAfterSeconds),
        });
      }
    }
    return { ok: true, kind: result.kind };
  }

  /**
   * Steps 1-3: pure, no database access. The HTTP adapter runs this as early
   * as it can (before the body is read, for unsigned requests) and hands the
   * result to admit().
   */
  authenticate(request: GuardedRequest): GuardRefusal | Authenticated {
    if (!this.configured) {
      return refuse('CRON_NOT_CONFIGURED', 'Cron triggers are disabled: no cron secret is configured (set CRON_SECRETS).');
    }
    if (!this.options.allowlist.allows(request.ip)) return refuse('IP_NOT_ALLOWED', 'This address may not call cron triggers.');
    const result = checkCredential(request, this.options.secrets, {
      allowQueryToken: this.options.allowQueryToken,
      now: this.options.clock.now(),
    });
    return result.ok ? result : refuse(result.code, result.message);
  }

  private async pruneWhenDue(now: number): Promise<void> {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + (this.options.pruneEveryMs ?? 60_000);
    await this.options.throttleStore.prune(now);
    await this.options.signatureStore.prune(now);
  }
}
