import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { cliEnv } from '../run-app.js';
import { withMigratedStorage } from '../storage.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      await withMigratedStorage(loadConfig({ env: cliEnv() }), async (_storage, report) => {
        process.stdout.write(report.applied.length === 0 ? 'Database is up to date.\n' : `Applied: ${report.applied.join(', ')}\n`);
      });
    });
}
