import { bigint } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/**
 * Maintenance bookkeeping: one row per swept table with its last sweep
 * (GET /api/v1/admin/auth-health/). The batch queries themselves are served
 * by indexes that already exist: refresh_tokens_expiry_idx,
 * session_revocations_expiry_idx and the sessions primary key (docs/maintenance.md).
 */
export const migration: CurfewMigration = {
  async up(db) {
    await db.schema
      .createTable('maintenance_sweeps')
      .addColumn('table_name', 'text', (col) => col.primaryKey())
      .addColumn('job', 'text', (col) => col.notNull())
      .addColumn('started_at', bigint, (col) => col.notNull())
      .addColumn('finished_at', bigint, (col) => col.notNull())
      .addColumn('duration_ms', bigint, (col) => col.notNull())
      .addColumn('rows', bigint, (col) => col.notNull())
      .addColumn('status', 'text', (col) => col.notNull())
      .execute();
  },
};
