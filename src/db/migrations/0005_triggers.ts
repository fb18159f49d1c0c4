import { bigint } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/** Trigger throttle windows, used signatures (replay guard) and alert episodes. */
export const migration: CurfewMigration = {
  async up(db) {
    await db.schema
      .createTable('trigger_throttle')
      .addColumn('route', 'text', (col) => col.notNull())
      .addColumn('caller', 'text', (col) => col.notNull())
      .addColumn('window_start', bigint, (col) => col.notNull())
      .addColumn('hits', 'integer', (col) => col.notNull())
      .addColumn('expires_at', bigint, (col) => col.notNull())
      .addPrimaryKeyConstraint('trigger_throttle_pk', ['route', 'caller', 'window_start'])
      .execute();
    await db.schema.createIndex('trigger_throttle_expires_idx').on('trigger_throttle').column('expires_at').execute();

    await db.schema
      .createTable('trigger_signatures')
      .addColumn('signature', 'text', (col) => col.primaryKey())
      .addColumn('expires_at', bigint, (col) => col.notNull())
      .execute();
    await db.schema.createIndex('trigger_signatures_expires_idx').on('trigger_signatures').column('expires_at').execute();

    await db.schema
      .createTable('job_alerts')
      .addColumn('job', 'text', (col) => col.notNull())
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('active', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('changed_at', bigint, (col) => col.notNull())
      .addPrimaryKeyConstraint('job_alerts_pk', ['job', 'kind'])
      .execute();
  },
};
