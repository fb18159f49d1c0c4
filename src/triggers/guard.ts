import type { Clock } from '../clock.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { checkCredential, type CredentialKind, type CredentialResult, type TriggerRequest } from './credentials.js';
import type { IpAllowlist } from './ip-allowlist.js';
import { SLOT_HEADER_NAME, parseSlot, type SlotSource } from './slot.js';
import { SLOT_HEADER } from './signature.js';
import { throttleTiers, type ThrottleLimit, type ThrottleStore } from './throttle.js';

/** Where accepted nonces of signed requests are remembered (the database, across instances). */
export interface NonceStore {
  /** False when the nonce was already claimed; race-safe. */
  claim(nonce: string, expiresAt: number): Promise<boolean>;
  prune(now: number): Promise<number>;
}

export interface TriggerGuardOptions {
  /** Accepted secrets; empty means every trigger answers 503 CRON_NOT_CONFIGURED. */
  readonly secrets: readonly string[];
  /** Accept `?token=` (default false in config). */
  readonly allowQueryToken: boolean;
  readonly allowlist: IpAllowlist;
  /** Throttle tiers, each per route and caller, all enforced (config default 30 per 600 000 ms). */
  readonly throttle: readonly ThrottleLimit[];
  readonly clock: Clock;
  readonly throttleStore: ThrottleStore;
  readonly nonceStore: NonceStore;
  /** The slot a per-job route would run now, for X-Curfew-Slot (default: no slot checks). */
  readonly slots?: SlotSource;
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
  /** Throttle bucket: the route with its parameters, e.g. `/cron/jobs/flush-expired-tokens/run` (throttle-key.ts). */
  readonly route: string;
  /** The job a per-job route runs (its `:name`, or the alias's job); undefined for /cron/run and /cron/status. */
  readonly job?: string | undefined;
}

/**
 * The trigger routes' gatekeeper. Checks, in this order, and stops at the
 * first failure:
 *
 * 1. a secret is configured, else 503 CRON_NOT_CONFIGURED;
 * 2. the caller IP is in CRON_IP_ALLOWLIST (when set), else 403 IP_NOT_ALLOWED;
 * 3. the credential is valid, else 401 (CRON_UNAUTHORIZED / SIGNATURE_EXPIRED).
 *    Steps 1-3 are pure: a stranger causes no database write at all;
 * 4. an X-Curfew-Slot header parses, else 400 VALIDATION_FAILED naming it, and
 *    on a per-job route names the slot the server would run now, else 401
 *    SLOT_MISMATCH (pure as well: the schedule is in memory);
 * 5. a signed request's nonce was not used before (one insert), else 401
 *    SIGNATURE_REPLAYED;
 * 6. the caller is within every throttle tier (one upsert each), else 429
 *    RATE_LIMITED with the refusing tier's Retry-After.
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
    const slotRefusal = this.checkSlot(request, now);
    if (slotRefusal !== undefined) return slotRefusal;
    await this.pruneWhenDue(now);
    if (result.replay !== undefined) {
      const fresh = await this.options.nonceStore.claim(result.replay.nonce, result.replay.expiresAt);
      if (!fresh) return refuse('SIGNATURE_REPLAYED', 'This nonce was already used; sign each request anew with a new X-Curfew-Nonce.');
    }
    if (options.throttled) {
      const decision = await throttleTiers(this.options.throttleStore, { route: request.route, caller: request.ip }, this.options.throttle, now);
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

  /**
   * The slot a per-job trigger for `job` would run now, the value to sign
   * as X-Curfew-Slot; undefined for an unknown job (or without a slot source),
   * null when its schedule has no slot yet.
   */
  currentSlot(job: string): number | null | undefined {
    return this.options.slots?.(job, this.options.clock.now());
  }

  /**
   * Step 4. The slot is judged only on per-job routes (where `request.job`
   * is set) and only when the job exists (an unknown job is the route's 404).
   */
  private checkSlot(request: GuardedRequest, now: number): GuardRefusal | undefined {
    const header = request.header(SLOT_HEADER);
    if (header === undefined) return undefined;
    const slot = parseSlot(header);
    if (slot === undefined) {
      return refuse('VALIDATION_FAILED', `${SLOT_HEADER_NAME} must be an ISO 8601 UTC instant such as 2026-04-01T08:00:00Z.`);
    }
    if (request.job === undefined || this.options.slots === undefined) return undefined;
    const expected = this.options.slots(request.job, now);
    if (expected === undefined) return undefined;
    if (expected !== slot) {
      return refuse('SLOT_MISMATCH', `${SLOT_HEADER_NAME} names a slot this job would not run now; ask for the current slot and sign again.`);
    }
    return undefined;
  }

  private async pruneWhenDue(now: number): Promise<void> {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + (this.options.pruneEveryMs ?? 60_000);
    await this.options.throttleStore.prune(now);
    await this.options.nonceStore.prune(now);
  }
}
