import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { registerJobs } from './commands/jobs.js';
import { registerLogout } from './commands/logout.js';
import { registerKeys } from './commands/keys.js';
import { registerExport } from './commands/export.js';
import { registerMigrate } from './commands/migrate.js';
import { registerServe } from './commands/serve.js';
import { registerTrigger } from './commands/trigger.js';
import { registerUsers } from './commands/users.js';
import { registerClients } from './commands/clients.js';

// An optional .env in the working directory; real environment variables win.
if (existsSync('.env')) process.loadEnvFile('.env');

const program = new Command()
  .name('curfew')
  .description('Accounts, sessions and a hardened scheduler for web apps.')
  .showHelpAfterError()
  .exitOverride();

registerServe(program);
registerMigrate(program);
registerKeys(program);
registerTrigger(program);
registerExport(program);
registerUsers(program);
registerJobs(program);
registerLogout(program);
registerClients(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage errors exit 64 (EX_USAGE).
    process.exit(error.exitCode === 0 ? 0 : 64);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`curfew: configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`curfew: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
