import type { Command } from 'commander';
import { withApp } from '../run-app.js';

/** `curfew keys rotate`: a new current signing key; `curfew keys list`: the published keys. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage the access-token signing keys');

  keys
    .command('rotate')
    .description('make a new current signing key; the old one stays published until its tokens expire')
    .action(async () => {
      const kid = await withApp((app) => app.services.auth.keys.rotate());
      process.stdout.write(`New signing key: ${kid}\nRunning instances pick it up within 10 s; old tokens stay valid until they expire.\n`);
    });

  keys
    .command('list')
    .description('list the published public keys (kid), newest first')
    .action(async () => {
      const { keys: published } = await withApp((app) => app.services.auth.keys.jwks());
      for (const key of published) process.stdout.write(`${key.kid}\n`);
    });
}
