import type { Config } from '../config/index.js';
import { openStorage } from '../db/connect.js';
import { explainDatabaseError } from '../db/connection-error.js';
import type { Storage } from '../db/database.js';
import { migrateToLatest, type MigrationReport } from '../db/migrate.js';

/**
 * Opens and migrates the database without building the app (for commands
 * that must run when the app cannot start, e.g. `keys reencrypt`), runs `fn`,
 * and closes it. Connection failures become a ConfigError naming DATABASE_URL.
 */
export async function withMigratedStorage<T>(config: Config, fn: (storage: Storage, report: MigrationReport) => Promise<T>): Promise<T> {
  let storage: Storage;
  try {
    storage = openStorage(config.database);
  } catch (error) {
    throw explainDatabaseError(error, config.database) ?? error;
  }
  try {
    const report = await migrateToLatest(storage, config.database.kind === 'postgres' ? config.database.schema : undefined).catch((error: unknown) => {
      throw explainDatabaseError(error, config.database) ?? error;
    });
    return await fn(storage, report);
  } finally {
    await storage.close();
  }
}
