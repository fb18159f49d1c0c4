import { bigint } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

/**
 * Nonces of accepted signed trigger requests (v2 signatures, issue 13 §3):
 * the replay guard now keys on the nonce, so two signed requests in the same
 * second never collide. `trigger_signatures` (0005) is no longer written.
 */
export const migration: CurfewMigration = {
  async up(db) {
    await db.schema
      .createTable('trigger_nonces')
      .addColumn('nonce', 'text', (col) => col.primaryKey())
      .addColumn('expires_at', bigint, (col) => col.notNull())
      .execute();
    await db.schema.createIndex('trigger_nonces_expires_idx').on('trigger_nonces').column('expires_at').execute();
  },
};
