import type { Storage } from '../../db/database.js';
import { AccountMailThrottleRepository } from '../../db/repositories/account-mail-throttle.js';
import { AccountTokensRepository } from '../../db/repositories/account-tokens.js';
import { ActivationTokensRepository } from '../../db/repositories/activation-tokens.js';
import { UsersAdminRepository } from '../../db/repositories/users-admin.js';
import { transaction } from '../../db/transaction.js';
import type { Counts, JobBody } from '../../jobs/types.js';
import { runBatches } from '../../maintenance/batch.js';
import type { AccountHooks } from './hooks.js';

export interface PurgeOptions {
  readonly storage: Storage;
  readonly hooks: AccountHooks;
  /** UNACTIVATED_ACCOUNT_TTL in ms (default 7 days). */
  readonly unactivatedTtlMs: number;
  /** Expired links are kept this long for support questions (MAINTENANCE_GRACE, default 1 day). */
  readonly graceMs: number;
  /** Counters whose window ended are useless (ACCOUNT_MAIL_WINDOW). */
  readonly throttleWindowMs: number;
  /** Rows per statement (MAINTENANCE_BATCH_SIZE). */
  readonly batchSize: number;
  /** Pause between batches (MAINTENANCE_BATCH_PAUSE_MS). */
  readonly pauseMs: number;
}

/**
 * The `purge-unactivated-accounts` job: deletes accounts never activated
 * within UNACTIVATED_ACCOUNT_TTL (so an address is never locked out for
 * good), in batches, each batch one transaction with the account-deleted
 * hooks; then expired activation/reset/e-mail links and ended throttle
 * windows. An activation racing the purge wins (the delete re-checks).
 */
export function purgeUnactivatedAccounts(options: PurgeOptions): JobBody {
  const { storage, batchSize } = options;
  const users = new UsersAdminRepository(storage);
  const links = new ActivationTokensRepository(storage);
  const tokens = new AccountTokensRepository(storage);
  const throttle = new AccountMailThrottleRepository(storage);
  return async (ctx): Promise<Counts> => {
    const now = ctx.clock.now();
    const accountsBefore = now - options.unactivatedTtlMs;
    const linksBefore = now - options.graceMs;
    const countersBefore = now - options.throttleWindowMs;
    if (ctx.dryRun) {
      const [accounts, activation, account, counters] = await Promise.all([
        users.countUnactivatedBefore(accountsBefore),
        links.countExpired(linksBefore),
        tokens.countExpired(linksBefore),
        throttle.countStale(countersBefore),
      ]);
      return { deleted: 0, would_delete: accounts, would_delete_links: activation + account, would_delete_counters: counters };
    }
    const total = await users.countUnactivatedBefore(accountsBefore);
    const loop = { signal: ctx.signal, pauseMs: options.pauseMs, progress: ctx.progress.bind(ctx), total };
    const deleted = await runBatches(async () => {
      const ids = await users.unactivatedBefore(accountsBefore, batchSize);
      if (ids.length === 0) return { rows: 0, more: false };
      const rows = await transaction(storage, async (tx) => {
        await options.hooks.accountDeleted({ userIds: ids, reason: 'purged', storage: tx });
        return new UsersAdminRepository(tx).deleteUnactivated(ids, accountsBefore);
      });
      return { rows, more: ids.length === batchSize };
    }, loop);
    if (deleted.cancelled) throw ctx.signal.reason ?? new Error('cancelled');
    const quiet = { ...loop, total: undefined, progress: () => undefined };
    const expiredLinks =
      (await runBatches(async () => batch(await links.deleteExpired(linksBefore, batchSize), batchSize), quiet)).rows +
      (await runBatches(async () => batch(await tokens.deleteExpired(linksBefore, batchSize), batchSize), quiet)).rows;
    const counters = (await runBatches(async () => batch(await throttle.deleteStale(countersBefore, batchSize), batchSize), quiet)).rows;
    return { deleted: deleted.rows, links: expiredLinks, counters };
  };
}

function batch(rows: number, size: number): { rows: number; more: boolean } {
  return { rows, more: rows === size };
}
