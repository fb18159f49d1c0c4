import type { Clock } from '../../clock.js';
import type { Config } from '../../config/index.js';
import type { Storage } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { MailQueue } from '../accounts-service.js';
import type { PasswordHasher } from '../passwords.js';
import type { PasswordPolicy } from '../password-policy.js';
import type { DeferredWork } from './deferred.js';
import type { AccountHooks } from './hooks.js';
import type { AccountMailThrottle } from './throttle.js';

/** Ends sessions (implemented by sessions/session-control.ts's SessionControl). */
export interface SessionEnder {
  /** Ends every session of the user; every instance refuses its access tokens within a view refresh. Returns the live count. */
  logoutUser(userId: number): Promise<number>;
  /** Ends every live session of the user but `keep`; returns how many. */
  revokeOthers(userId: number, keep: string): Promise<number>;
}

/** Failed-password counting shared with login (the auth area's LoginLimiter). */
export interface FailedPasswordCounter {
  /** Throws RATE_LIMITED while the account or the IP is locked. */
  check(email: string, ip: string): Promise<unknown>;
  recordFailure(email: string, ip: string): Promise<void>;
  /** Clears the account's counter (a successful reset ends a lock-out). */
  recordSuccess(email: string): Promise<void>;
}

/** The signed-in caller, as the routes know it. */
export interface Caller {
  readonly userId: number;
  readonly sessionId: string;
  readonly ip: string;
}

/** What every lifecycle service receives. */
export interface LifecycleDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly passwords: PasswordHasher;
  readonly policy: PasswordPolicy;
  readonly mail: MailQueue;
  readonly sessions: SessionEnder;
  readonly logins: FailedPasswordCounter;
  readonly throttle: AccountMailThrottle;
  readonly deferred: DeferredWork;
  readonly hooks: AccountHooks;
}
