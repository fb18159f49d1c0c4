import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { SigningKeysRepository } from '../../db/repositories/signing-keys.js';
import { KeyEncryption, SigningKeyDecryptError } from '../../tokens/key-encryption.js';
import { reencryptSigningKeys } from '../../tokens/reencrypt.js';
import { cliEnv, withApp } from '../run-app.js';
import { withMigratedStorage } from '../storage.js';

/** EX_USAGE / EX_DATAERR, as the other commands use them. */
const EXIT_USAGE = 64;
const EXIT_DATA_ERROR = 65;

interface ReencryptFlags {
  fromSecretFile?: string;
  oldSecretKeyStdin?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The old SECRET_KEY from the file or stdin, trimmed as the development secret file is read. */
async function oldSecretKey(flags: ReencryptFlags): Promise<string> {
  const text = flags.fromSecretFile !== undefined ? await readFile(flags.fromSecretFile, 'utf8') : await readStdin();
  return text.trim();
}

/**
 * `curfew keys reencrypt --from-secret-file data/secret_key | --old-secret-key-stdin`:
 * re-encrypts every signing key from the old SECRET_KEY to the one now set
 * (SECRET_KEY must be set explicitly). Runs without starting the app, which
 * cannot start while the keys do not match. Exit 0 done, 64 usage, 65 the old
 * key does not open the signing keys (nothing written).
 */
function registerReencrypt(keys: Command): void {
  keys
    .command('reencrypt')
    .description('re-encrypt the signing keys under the SECRET_KEY now set, after it changed (docs/security.md)')
    .option('--from-secret-file <path>', 'the old key is in this file, e.g. the development key data/secret_key')
    .option('--old-secret-key-stdin', 'read the old key from standard input')
    .addHelpText('after', '\nSet SECRET_KEY to the new key first. Exit codes: 0 done, 64 usage, 65 the old key does not fit (nothing changed).')
    .action(async (flags: ReencryptFlags) => {
      const fail = (message: string, code: number) => {
        process.stderr.write(`curfew keys reencrypt: ${message}\n`);
        process.exitCode = code;
      };
      if ((flags.fromSecretFile === undefined) === (flags.oldSecretKeyStdin !== true)) {
        return fail('give the old key with exactly one of --from-secret-file <path> or --old-secret-key-stdin', EXIT_USAGE);
      }
      const env = cliEnv();
      // Checked before loading the config: without SECRET_KEY a development run would pick up (or create) data/secret_key.
      if ((env.SECRET_KEY ?? '').trim() === '') {
        return fail('set SECRET_KEY to the new key first; this command moves the signing keys from the old key to it', EXIT_USAGE);
      }
      const config = loadConfig({ env });
      let old: string;
      try {
        old = await oldSecretKey(flags);
      } catch (error) {
        return fail(`cannot read ${flags.fromSecretFile ?? 'standard input'}: ${(error as Error).message}`, EXIT_USAGE);
      }
      if (old === '') return fail(`no old key in ${flags.fromSecretFile ?? 'standard input'}`, EXIT_DATA_ERROR);
      if (old === config.secretKey) return fail('the old key is the same as SECRET_KEY; nothing to re-encrypt', EXIT_USAGE);
      try {
        const report = await withMigratedStorage(config, (storage) =>
          reencryptSigningKeys(new SigningKeysRepository(storage), new KeyEncryption(old), new KeyEncryption(config.secretKey)),
        );
        process.stdout.write(`Re-encrypted ${report.reencrypted.length} signing key(s) under the new SECRET_KEY`);
        process.stdout.write(report.alreadyCurrent.length > 0 ? ` (${report.alreadyCurrent.length} already were).\n` : '.\n');
        process.stdout.write('Start every instance with the new SECRET_KEY. CSRF tokens issued before the change are refused; clients get new ones at their next login or refresh.\n');
      } catch (error) {
        if (!(error instanceof SigningKeyDecryptError)) throw error;
        fail(`signing key ${error.kid} opens with neither the old key nor SECRET_KEY; nothing was changed. Check the old key`, EXIT_DATA_ERROR);
      }
    });
}

/** `curfew keys rotate | list | reencrypt`. */
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

  registerReencrypt(keys);
}
