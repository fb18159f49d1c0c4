import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { openStorage } from '../../db/connect.js';
import { migrateToLatest } from '../../db/migrate.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const config = loadConfig();
      const storage = openStorage(config.database);
      try {
        const report = await migrateToLatest(storage, config.database.kind === 'postgres' ? config.database.schema : undefined);
        process.stdout.write(
          report.applied.length === 0 ? 'Database is up to date.\n' : `Applied: ${report.applied.join(', ')}\n`,
        );
      } finally {
        await storage.close();
      }
    });
}
