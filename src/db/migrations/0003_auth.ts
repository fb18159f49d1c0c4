import { bigint } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/** Signing keys, sessions, refresh tokens, revocations and login throttling. */
export const migration: CurfewMigration = {
  async up(db) {
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (col) => col.primaryKey())
      .addColumn('alg', 'text', (col) => col.notNull())
      .addColumn('public_jwk', 'text', (col) => col.notNull())
      .addColumn('private_key_enc', 'text', (col) => col.notNull())
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('retired_at', bigint)
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('user_id', bigint, (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('user_agent', 'text')
      .addColumn('ip', 'text')
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('last_seen_at', bigint, (col) => col.notNull())
      .addColumn('idle_expires_at', bigint, (col) => col.notNull())
      .addColumn('absolute_expires_at', bigint, (col) => col.notNull())
      .addColumn('revoked_at', bigint)
      .addColumn('revoked_reason', 'text')
      .execute();
    // Listing and revoking a user's sessions; cleanup of expired sessions by absolute expiry.
    // last_seen_at and idle_expires_at stay unindexed on purpose: every refresh updates them,
    // and without an index on them PostgreSQL can do that as a cheap HOT update.
    await db.schema.createIndex('sessions_user_idx').on('sessions').columns(['user_id', 'created_at']).execute();
    await db.schema.createIndex('sessions_absolute_expiry_idx').on('sessions').column('absolute_expires_at').execute();

    await db.schema
      .createTable('refresh_tokens')
      .addColumn('token_hash', 'text', (col) => col.primaryKey())
      .addColumn('session_id', 'text', (col) => col.notNull().references('sessions.id').onDelete('cascade'))
      .addColumn('user_id', bigint, (col) => col.notNull())
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('expires_at', bigint, (col) => col.notNull())
      .addColumn('rotated_at', bigint)
      .addColumn('revoked_at', bigint)
      .execute();
    // Revoking a session's tokens; the flush job deletes past expires_at in batches.
    await db.schema.createIndex('refresh_tokens_session_idx').on('refresh_tokens').column('session_id').execute();
    await db.schema.createIndex('refresh_tokens_expiry_idx').on('refresh_tokens').column('expires_at').execute();

    await db.schema
      .createTable('session_revocations')
      .addColumn('session_id', 'text', (col) => col.primaryKey())
      .addColumn('user_id', bigint, (col) => col.notNull())
      .addColumn('recorded_at', bigint, (col) => col.notNull())
      .addColumn('expires_at', bigint, (col) => col.notNull())
      .execute();
    // The revocation view polls by recorded_at every second; pruning goes by expires_at.
    await db.schema.createIndex('session_revocations_recorded_idx').on('session_revocations').column('recorded_at').execute();
    await db.schema.createIndex('session_revocations_expiry_idx').on('session_revocations').column('expires_at').execute();

    await db.schema
      .createTable('revocation_marks')
      .addColumn('subject', 'text', (col) => col.primaryKey())
      .addColumn('user_id', bigint)
      .addColumn('not_before', bigint, (col) => col.notNull())
      .addColumn('recorded_at', bigint, (col) => col.notNull())
      .execute();
    await db.schema.createIndex('revocation_marks_recorded_idx').on('revocation_marks').column('recorded_at').execute();

    await db.schema
      .createTable('login_attempts')
      .addColumn('scope', 'text', (col) => col.notNull())
      .addColumn('key', 'text', (col) => col.notNull())
      .addColumn('failures', 'integer', (col) => col.notNull())
      .addColumn('window_started_at', bigint, (col) => col.notNull())
      .addColumn('locked_until', bigint, (col) => col.notNull())
      .addColumn('updated_at', bigint, (col) => col.notNull())
      .addPrimaryKeyConstraint('login_attempts_pk', ['scope', 'key'])
      .execute();
    await db.schema.createIndex('login_attempts_updated_idx').on('login_attempts').column('updated_at').execute();
  },
};
