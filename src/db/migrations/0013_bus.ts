import { bigint, withIdColumn } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/**
 * The message bus (src/bus, docs/verify.md): `bus_outbox` holds revocation
 * events written in the same transaction as the change they announce, until
 * a publisher has handed them to the bus; `service_clients` are the callers
 * of token introspection (HTTP Basic, secret stored hashed).
 */
export const migration: CurfewMigration = {
  async up(db, engine) {
    await withIdColumn(db.schema.createTable('bus_outbox'), engine)
      .addColumn('subject', 'text', (col) => col.notNull())
      .addColumn('payload', 'text', (col) => col.notNull())
      .addColumn('created_at', bigint, (col) => col.notNull())
      // Set while one instance publishes the row; a crashed publisher's claim expires.
      .addColumn('claimed_until', bigint)
      .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
      .execute();
    // The publisher's query: oldest rows first (the primary key), unclaimed or stale claims.
    await db.schema.createIndex('bus_outbox_claim_idx').on('bus_outbox').columns(['claimed_until', 'id']).execute();

    await withIdColumn(db.schema.createTable('service_clients'), engine)
      .addColumn('name', 'text', (col) => col.notNull().unique())
      .addColumn('secret_hash', 'text', (col) => col.notNull())
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('revoked_at', bigint)
      .addColumn('last_used_at', bigint)
      .execute();
  },
};
