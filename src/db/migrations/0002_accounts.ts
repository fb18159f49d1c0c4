import { bigint, withIdColumn } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/** Activation tokens (hashed, single use) and the mail outbox. */
export const migration: CurfewMigration = {
  async up(db, engine) {
    await withIdColumn(db.schema.createTable('activation_tokens'), engine)
      .addColumn('user_id', bigint, (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (col) => col.notNull().unique())
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('expires_at', bigint, (col) => col.notNull())
      .addColumn('used_at', bigint)
      .execute();
    await db.schema.createIndex('activation_tokens_user_idx').on('activation_tokens').column('user_id').execute();
    // Serves a future cleanup of expired links.
    await db.schema.createIndex('activation_tokens_expires_idx').on('activation_tokens').column('expires_at').execute();

    await withIdColumn(db.schema.createTable('mail_outbox'), engine)
      .addColumn('recipient', 'text', (col) => col.notNull())
      .addColumn('subject', 'text', (col) => col.notNull())
      .addColumn('text', 'text', (col) => col.notNull())
      .addColumn('html', 'text')
      .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('next_attempt_at', bigint, (col) => col.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', bigint)
      .addColumn('last_error', 'text')
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('sent_at', bigint)
      .execute();
    // The sender's "due" query: pending rows by next_attempt_at, and stale claims by locked_until.
    await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('mail_outbox_lease_idx').on('mail_outbox').columns(['status', 'locked_until']).execute();
  },
};
