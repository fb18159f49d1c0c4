import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Config } from './index.js';

/** A path as the operator would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

/**
 * What to tell the operator when the signing keys in the database cannot be
 * decrypted with the SECRET_KEY in use: which key is in use, which one the
 * keys were probably made with, and the command that moves them over.
 */
export function secretKeyMismatchHint(config: Pick<Config, 'secretKeySource' | 'secretKey' | 'dataDir'>, kid: string): string {
  const file = join(config.dataDir, 'secret_key');
  const devKey = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  const intro = `the signing keys in the database (key ${kid}) were encrypted under a different SECRET_KEY than the one in use`;
  if (config.secretKeySource === 'env' && devKey !== undefined && devKey !== config.secretKey) {
    return (
      `${intro} (the SECRET_KEY variable); they were probably made with the development key in ${shown(file)}, ` +
      `generated before SECRET_KEY was set. Keep the new SECRET_KEY and run: curfew keys reencrypt --from-secret-file ${shown(file)} ` +
      '(docs/security.md, "Changing SECRET_KEY"); or unset SECRET_KEY to go back to the old key'
    );
  }
  if (config.secretKeySource === 'env') {
    return (
      `${intro} (the SECRET_KEY variable). Set SECRET_KEY back to the key the database was made with, or keep the new one and run: ` +
      'curfew keys reencrypt --old-secret-key-stdin (type or pipe the old key; docs/security.md, "Changing SECRET_KEY")'
    );
  }
  return (
    `${intro} (the development key in ${shown(file)}, used because SECRET_KEY is not set). Set SECRET_KEY to the key the database was ` +
    'made with; or set SECRET_KEY to a new key and run: curfew keys reencrypt --old-secret-key-stdin (docs/security.md, "Changing SECRET_KEY")'
  );
}
