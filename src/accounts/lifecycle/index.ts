import { AccountMailThrottleRepository } from '../../db/repositories/account-mail-throttle.js';
import type { JobBody } from '../../jobs/types.js';
import { UserAdmin } from './admin.js';
import { DeferredWork } from './deferred.js';
import { AccountHooks } from './hooks.js';
import { purgeUnactivatedAccounts } from './purge.js';
import { AccountRecovery } from './recovery.js';
import { AccountSettings } from './settings.js';
import { AccountMailThrottle } from './throttle.js';
import type { LifecycleDeps } from './types.js';

export { AccountHooks, type AccountDeletedEvent, type AccountDeletedListener } from './hooks.js';
export type { Caller, FailedPasswordCounter, SessionEnder } from './types.js';
export type { ResendOutcome } from './recovery.js';
export type { UserChange, UserListQuery, UserPage } from './admin.js';

/** The account lifecycle (`services.lifecycle`): recovery, self-service settings, admin, hooks, the purge job. */
export interface AccountLifecycle {
  /** Resend activation, password reset. */
  readonly recovery: AccountRecovery;
  /** Change password, change e-mail, delete account, isTombstoned. */
  readonly settings: AccountSettings;
  /** Admin user management (API and CLI). */
  readonly admin: UserAdmin;
  /** Register "account deleted" listeners here (sequence enrolments). */
  readonly hooks: AccountHooks;
  /** The body of `purge-unactivated-accounts`. */
  readonly purgeJob: JobBody;
  /** True when an account with this address was deleted by its owner. */
  isTombstoned(email: string): Promise<boolean>;
  /** Waits for deferred mail work (resend, reset) in flight; app stop and tests call it. */
  drain(): Promise<void>;
}

/** What createAccountLifecycle needs: the services' shared dependencies, before the lifecycle adds its own. */
export type AccountLifecycleDeps = Omit<LifecycleDeps, 'throttle' | 'deferred' | 'hooks'>;

/** Builds the account lifecycle from the config (called by createApp). */
export function createAccountLifecycle(deps: AccountLifecycleDeps): AccountLifecycle {
  const { config, clock, storage } = deps;
  const logger = deps.logger.child({ component: 'accounts' });
  const throttle = new AccountMailThrottle(new AccountMailThrottleRepository(storage), config.secretKey, clock, {
    addressMax: config.accounts.mailThrottle.addressMax,
    ipMax: config.accounts.mailThrottle.ipMax,
    windowMs: config.accounts.mailThrottle.windowMs,
  });
  const deferred = new DeferredWork(logger);
  const hooks = new AccountHooks();
  const shared = { ...deps, logger, throttle, deferred, hooks };
  const settings = new AccountSettings(shared);
  return {
    recovery: new AccountRecovery(shared),
    settings,
    admin: new UserAdmin(shared),
    hooks,
    purgeJob: purgeUnactivatedAccounts({
      storage,
      hooks,
      unactivatedTtlMs: config.accounts.unactivatedTtlMs,
      graceMs: config.maintenance.graceMs,
      throttleWindowMs: config.accounts.mailThrottle.windowMs,
      batchSize: config.maintenance.batchSize,
      pauseMs: config.maintenance.batchPauseMs,
    }),
    isTombstoned: (email) => settings.isTombstoned(email),
    drain: () => deferred.drain(),
  };
}
