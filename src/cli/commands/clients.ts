import type { Command } from 'commander';
import { isAppError } from '../../errors.js';
import { withApp } from '../run-app.js';

/** EX_DATAERR: the input was refused (bad or taken name, unknown client). */
const EXIT_DATA_ERROR = 65;

/** Runs `fn`; an AppError (taken name, unknown client) is printed and exits 65. */
async function refusing(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!isAppError(error)) throw error;
    process.stderr.write(`curfew: ${error.message}\n`);
    process.exitCode = EXIT_DATA_ERROR;
  }
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** `curfew clients create|list|revoke`: the service clients that may call token introspection. */
export function registerClients(program: Command): void {
  const clients = program.command('clients').description('manage service clients (callers of POST /api/v1/introspect/)');

  clients
    .command('create <name>')
    .description('create a client; its secret is printed once and stored only hashed')
    .action((name: string) =>
      refusing(async () => {
        const { client, secret } = await withApp((app) => app.services.clients.create(name));
        process.stdout.write(`client_id:     ${client.name}\nclient_secret: ${secret}\n`);
        process.stderr.write('Store the secret now: it cannot be shown again (revoke and create another if lost).\n');
      }),
    );

  clients
    .command('list')
    .description('list clients: name, created, last used, revoked')
    .action(() =>
      refusing(async () => {
        const list = await withApp((app) => app.services.clients.list());
        if (list.length === 0) {
          process.stderr.write('No service clients. Create one with: curfew clients create <name>\n');
          return;
        }
        process.stdout.write('NAME\tCREATED\tLAST USED\tREVOKED\n');
        for (const client of list) {
          process.stdout.write(`${client.name}\t${iso(client.createdAt)}\t${iso(client.lastUsedAt)}\t${iso(client.revokedAt)}\n`);
        }
      }),
    );

  clients
    .command('revoke <name>')
    .description('revoke a client: its credential is refused within 5 s on every instance')
    .action((name: string) =>
      refusing(async () => {
        await withApp((app) => app.services.clients.revoke(name));
        process.stdout.write(`Revoked client ${name}.\n`);
      }),
    );
}
