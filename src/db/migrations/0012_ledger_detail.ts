import { bigint } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/**
 * The run ledger keeps a failing job's whole error (stack and `cause` chain,
 * redacted) beside its short message, and leases record their last heartbeat,
 * so a caller can tell a live holder from one that stopped renewing.
 */
export const migration: CurfewMigration = {
  async up(db) {
    await db.schema.alterTable('cron_runs').addColumn('error_detail', 'text').execute();
    // Null for leases taken before this migration: readers fall back to acquired_at.
    await db.schema.alterTable('job_leases').addColumn('renewed_at', bigint).execute();
  },
};
