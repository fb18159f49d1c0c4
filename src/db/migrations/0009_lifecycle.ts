import { sql } from 'kysely';
import { bigint, withIdColumn } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/**
 * The account lifecycle (issue 14): deactivation, password-reset and
 * e-mail-change tokens (hashed, single use), the resend/reset throttle, and
 * tombstones of deleted accounts.
 */
export const migration: CurfewMigration = {
  async up(db, engine) {
    await db.schema.alterTable('users').addColumn('deactivated_at', bigint).execute();
    // purge-unactivated-accounts: never-activated accounts by age. Partial, so it holds only those few.
    await db.schema
      .createIndex('users_unactivated_created_idx')
      .on('users')
      .column('created_at')
      .where(sql.ref('activated_at'), 'is', null)
      .execute();

    await withIdColumn(db.schema.createTable('account_tokens'), engine)
      .addColumn('user_id', bigint, (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('purpose', 'text', (col) => col.notNull())
      .addColumn('token_hash', 'text', (col) => col.notNull().unique())
      .addColumn('new_email', 'text')
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('expires_at', bigint, (col) => col.notNull())
      .addColumn('used_at', bigint)
      .execute();
    // Invalidating a user's earlier links of one purpose; the purge job deletes by expiry.
    await db.schema.createIndex('account_tokens_user_idx').on('account_tokens').columns(['user_id', 'purpose']).execute();
    await db.schema.createIndex('account_tokens_expires_idx').on('account_tokens').column('expires_at').execute();

    await db.schema
      .createTable('account_mail_throttle')
      .addColumn('scope', 'text', (col) => col.notNull())
      .addColumn('key', 'text', (col) => col.notNull())
      .addColumn('count', 'integer', (col) => col.notNull())
      .addColumn('window_started_at', bigint, (col) => col.notNull())
      .addPrimaryKeyConstraint('account_mail_throttle_pk', ['scope', 'key'])
      .execute();
    await db.schema.createIndex('account_mail_throttle_window_idx').on('account_mail_throttle').column('window_started_at').execute();

    await db.schema
      .createTable('account_tombstones')
      .addColumn('email_hash', 'text', (col) => col.primaryKey())
      .addColumn('deleted_at', bigint, (col) => col.notNull())
      .execute();
  },
};
