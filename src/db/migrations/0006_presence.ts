import { sql } from 'kysely';
import { bigint } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/** Per-user presence, open connections per instance, instance heartbeats. */
export const migration: CurfewMigration = {
  async up(db) {
    await db.schema
      .createTable('user_presence')
      .addColumn('user_id', bigint, (col) => col.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('online', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('last_seen_at', bigint, (col) => col.notNull())
      .addColumn('active_connections', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('changed_at', bigint, (col) => col.notNull())
      .execute();
    // The sweep's query: online users whose last activity is before the cutoff.
    // Partial, so the index holds only the (few) online users.
    await db.schema
      .createIndex('user_presence_online_seen_idx')
      .on('user_presence')
      .column('last_seen_at')
      .where(sql.ref('online'), '=', 1)
      .execute();
    // Orphans: online with no connection (an instance died during the offline grace).
    await db.schema
      .createIndex('user_presence_idle_seen_idx')
      .on('user_presence')
      .column('last_seen_at')
      .where(sql<boolean>`online = 1 and active_connections = 0`)
      .execute();
    // The online listing, ordered by user id.
    await db.schema
      .createIndex('user_presence_online_user_idx')
      .on('user_presence')
      .column('user_id')
      .where(sql.ref('online'), '=', 1)
      .execute();

    await db.schema
      .createTable('presence_connections')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('user_id', bigint, (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('instance_id', 'text', (col) => col.notNull())
      .addColumn('opened_at', bigint, (col) => col.notNull())
      .execute();
    await db.schema.createIndex('presence_connections_user_idx').on('presence_connections').column('user_id').execute();
    await db.schema.createIndex('presence_connections_instance_idx').on('presence_connections').column('instance_id').execute();

    await db.schema
      .createTable('presence_instances')
      .addColumn('instance_id', 'text', (col) => col.primaryKey())
      .addColumn('heartbeat_at', bigint, (col) => col.notNull())
      .addColumn('started_at', bigint, (col) => col.notNull())
      .execute();
    await db.schema.createIndex('presence_instances_heartbeat_idx').on('presence_instances').column('heartbeat_at').execute();
  },
};
