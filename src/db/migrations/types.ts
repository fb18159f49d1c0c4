import type { Kysely } from 'kysely';
import type { Engine } from '../database.js';

/** Migrations see no table types: they describe the schema, not use it. */
export type MigrationDb = Kysely<unknown>;

/**
 * A migration gets the engine as well as the (transactional) Kysely handle,
 * because a few column types (identity columns) are spelled differently per
 * engine. Numbered files in this folder, listed in index.ts; never edit one that has shipped.
 */
export interface CurfewMigration {
  up(db: MigrationDb, engine: Engine): Promise<void>;
  down?(db: MigrationDb, engine: Engine): Promise<void>;
}
