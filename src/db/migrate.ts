import { setTimeout as delay } from 'node:timers/promises';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Engine, Storage } from './database.js';
import { migrations } from './migrations/index.js';
import type { MigrationDb } from './migrations/types.js';

class StaticProvider implements MigrationProvider {
  constructor(private readonly storage: Storage) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const result: Record<string, Migration> = {};
    for (const [name, migration] of Object.entries(migrations)) {
      result[name] = {
        up: async (db) => migration.up(db as MigrationDb, this.storage.engine),
        ...(migration.down ? { down: async (db) => migration.down?.(db as MigrationDb, this.storage.engine) } : {}),
      };
    }
    return result;
  }
}

export interface MigrationReport {
  readonly applied: string[];
}

/**
 * Applies every pending migration. Safe to run from several processes at once:
 * Kysely's migrator takes an advisory lock on PostgreSQL, and SQLite allows one
 * writer at a time.
 */
export async function migrateToLatest(storage: Storage, schema?: string): Promise<MigrationReport> {
  // Migrations run on a dedicated connection in a transaction; in PostgreSQL the
  // migration bookkeeping tables live in the same schema as the data.
  const migrator = new Migrator({
    db: storage.db,
    provider: new StaticProvider(storage),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  for (let attempt = 1; ; attempt += 1) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    if (attempt < SCHEMA_RACE_ATTEMPTS && isSchemaRace(error)) {
      await delay(20 * attempt);
      continue;
    }
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed`, { cause: error });
  }
}

const SCHEMA_RACE_ATTEMPTS = 10;

/**
 * Kysely's migrator looks for its table by introspecting every schema in the
 * database (`pg_get_serial_sequence` over each schema's name); another schema
 * dropped meanwhile makes that query fail with 3F000 "schema ... does not
 * exist". Nothing was migrated then, so trying again is safe. Seen when test
 * files drop their own schemas while another file starts.
 */
function isSchemaRace(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '3F000';
}
