import { bigint } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/**
 * Per-job operator controls (`job_controls`): a paused job is skipped by every
 * instance's scheduler and by `/cron/run` until resumed; `resumed_at` is where
 * its catch-up and lateness start again (docs/scheduler.md, "Pause"). And an
 * index for the console's run history (`WHERE job = ? ORDER BY started_at DESC,
 * id DESC`, keyset paging), and the run's parameters on its ledger row.
 */
export const migration: CurfewMigration = {
  async up(db) {
    await db.schema
      .createTable('job_controls')
      .addColumn('job', 'text', (col) => col.primaryKey())
      .addColumn('paused', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('paused_at', bigint)
      .addColumn('paused_by', 'text')
      .addColumn('reason', 'text')
      .addColumn('resumed_at', bigint)
      .addColumn('resumed_by', 'text')
      .execute();
    // JSON of the run's parameters (e.g. logout-all-users' exclusions); null when none.
    await db.schema.alterTable('cron_runs').addColumn('params', 'text').execute();
    await db.schema.createIndex('cron_runs_job_started_idx').on('cron_runs').columns(['job', 'started_at', 'id']).execute();
  },
};
