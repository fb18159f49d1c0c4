import { bigint, withIdColumn } from '../migration-helpers.js';
import type { CurfewMigration } from './types.js';

export const migration: CurfewMigration = {
  async up(db, engine) {
    await withIdColumn(db.schema.createTable('users'), engine)
      .addColumn('email', 'text', (col) => col.notNull().unique())
      .addColumn('password_hash', 'text', (col) => col.notNull())
      .addColumn('role', 'text', (col) => col.notNull().defaultTo('user'))
      .addColumn('profile', 'text', (col) => col.notNull().defaultTo('{}'))
      .addColumn('activated_at', bigint)
      .addColumn('created_at', bigint, (col) => col.notNull())
      .addColumn('updated_at', bigint, (col) => col.notNull())
      .addColumn('last_login_at', bigint)
      .execute();
    await db.schema.createIndex('users_role_idx').on('users').column('role').execute();
  },
};
