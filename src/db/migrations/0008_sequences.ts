import { bigint, withIdColumn } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/**
 * Sequence mail (docs/sequences.md): sequences and their numbered steps,
 * enrollments, the send ledger (one row per enrollment and step, UNIQUE, written
 * before any byte goes to the mail server) and the suppression list, keyed by
 * address, that every sequence send checks (unsubscribes, hard bounces, and
 * later the account-deletion tombstone).
 */
export const migration: CurfewMigration = {
  async up(db, engine) {
    await withIdColumn(db.schema.createTable('sequences'), engine)
      .addColumn('key', 'text', (col) => col.notNull().unique())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('active', 'integer', (col) => col.notNull().defaultTo(1))
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('updated_at', bigint, (col) => col.notNull())
      .execute();

    await withIdColumn(db.schema.createTable('sequence_steps'), engine)
      .addColumn('sequence_id', bigint, (col) => col.notNull().references('sequences.id').onDelete('cascade'))
      .addColumn('position', 'integer', (col) => col.notNull())
      .addColumn('delay_ms', bigint, (col) => col.notNull())
      .addColumn('subject', 'text', (col) => col.notNull())
      .addColumn('text', 'text', (col) => col.notNull())
      .addColumn('html', 'text')
      .addColumn('updated_at', bigint, (col) => col.notNull())
      .addUniqueConstraint('sequence_steps_position_key', ['sequence_id', 'position'])
      .execute();

    await withIdColumn(db.schema.createTable('sequence_enrollments'), engine)
      .addColumn('sequence_id', bigint, (col) => col.notNull().references('sequences.id').onDelete('cascade'))
      .addColumn('user_id', bigint, (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('next_step', 'integer', (col) => col.notNull())
      .addColumn('due_at', bigint)
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('updated_at', bigint, (col) => col.notNull())
      .addUniqueConstraint('sequence_enrollments_user_key', ['sequence_id', 'user_id'])
      .execute();
    // The tick's "due" scan and the backlog: active enrollments by due time.
    await db.schema.createIndex('sequence_enrollments_due_idx').on('sequence_enrollments').columns(['status', 'due_at']).execute();
    await db.schema.createIndex('sequence_enrollments_user_idx').on('sequence_enrollments').column('user_id').execute();

    await withIdColumn(db.schema.createTable('sequence_sends'), engine)
      .addColumn('enrollment_id', bigint, (col) => col.notNull().references('sequence_enrollments.id').onDelete('cascade'))
      .addColumn('sequence_id', bigint, (col) => col.notNull())
      .addColumn('step', 'integer', (col) => col.notNull())
      .addColumn('state', 'text', (col) => col.notNull())
      .addColumn('recipient', 'text')
      .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('next_attempt_at', bigint, (col) => col.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('lease_until', bigint)
      .addColumn('response_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('updated_at', bigint, (col) => col.notNull())
      .addColumn('sent_at', bigint)
      // Exactly once: a second tick, instance or caller that reaches the same step inserts nothing.
      .addUniqueConstraint('sequence_sends_step_key', ['enrollment_id', 'step'])
      .execute();
    await db.schema.createIndex('sequence_sends_due_idx').on('sequence_sends').columns(['state', 'next_attempt_at']).execute();
    await db.schema.createIndex('sequence_sends_lease_idx').on('sequence_sends').columns(['state', 'lease_until']).execute();
    await db.schema.createIndex('sequence_sends_sequence_idx').on('sequence_sends').columns(['sequence_id', 'state']).execute();

    await db.schema
      .createTable('mail_suppressions')
      .addColumn('email', 'text', (col) => col.primaryKey())
      .addColumn('reason', 'text', (col) => col.notNull())
      .addColumn('created_at', bigint, (col) => col.notNull())
      .execute();
  },
};
