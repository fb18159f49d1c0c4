import { bigint, withIdColumn } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/** The run ledger (`cron_runs`) and job leases (`job_leases`), owned by src/jobs. */
export const migration: CurfewMigration = {
  async up(db, engine) {
    await withIdColumn(db.schema.createTable('cron_runs'), engine)
      .addColumn('job', 'text', (col) => col.notNull())
      .addColumn('scheduled_for', bigint)
      .addColumn('trigger', 'text', (col) => col.notNull())
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('started_at', bigint, (col) => col.notNull())
      .addColumn('finished_at', bigint)
      .addColumn('duration_ms', bigint)
      .addColumn('counts', 'text', (col) => col.notNull().defaultTo('{}'))
      .addColumn('output', 'text')
      .addColumn('error', 'text')
      .addColumn('caller_ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('request_id', 'text')
      .addColumn('instance_id', 'text', (col) => col.notNull())
      .addColumn('dry_run', 'integer', (col) => col.notNull().defaultTo(0))
      // Exactly once per slot, as a database fact. NULL slots (ad-hoc runs) never conflict.
      .addUniqueConstraint('cron_runs_job_slot_key', ['job', 'scheduled_for'])
      .execute();
    // Latest run / success / failure streak per job: WHERE job = ? ORDER BY id DESC.
    await db.schema.createIndex('cron_runs_job_id_idx').on('cron_runs').columns(['job', 'id']).execute();
    // Abandoned-run sweep on lease takeover: WHERE job = ? AND status = 'running'.
    await db.schema.createIndex('cron_runs_job_status_idx').on('cron_runs').columns(['job', 'status']).execute();
    // Retention pruning: WHERE started_at < ?.
    await db.schema.createIndex('cron_runs_started_at_idx').on('cron_runs').column('started_at').execute();

    await db.schema
      .createTable('job_leases')
      .addColumn('job', 'text', (col) => col.primaryKey())
      .addColumn('holder', 'text', (col) => col.notNull())
      .addColumn('lease_until', bigint, (col) => col.notNull())
      .addColumn('acquired_at', bigint, (col) => col.notNull())
      .execute();
  },
};
