import { existsSync, readFileSync } from 'node:fs';
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
import type { CliOptions } from './options.js';
import { registerSequences } from './commands/sequences.js';
import { registerClients } from './commands/clients.js';

/**
 * Runs the `curfew` command line on `argv` (process.argv's shape). Called by
 * bin/curfew.js with no options, and by test entry points with test-only
 * options (see CliOptions). Exits the process on errors, with the codes below.
 */
/** The installed package's version, for `curfew --version`. */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export async function main(argv: readonly string[], options: CliOptions = {}): Promise<void> {
  // An optional .env in the working directory; real environment variables win.
  if (existsSync('.env')) process.loadEnvFile('.env');

  const program = new Command()
    .name('curfew')
    .description('Accounts, sessions and a hardened scheduler for web apps.')
    .version(`curfew ${version}`, '-v, --version', 'print the version and exit')
    .showHelpAfterError()
    .exitOverride();

  registerServe(program, options);
  registerMigrate(program);
  registerKeys(program);
  registerTrigger(program);
  registerExport(program);
  registerUsers(program);
  registerJobs(program);
  registerLogout(program);
  registerSequences(program);
  registerClients(program);

  try {
    await program.parseAsync([...argv]);
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
}
