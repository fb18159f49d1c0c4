import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/** The shortest SECRET_KEY / cron secret accepted in production (bytes). */
export const MIN_SECRET_BYTES = 32;
const HOW_TO_GENERATE = 'generate one with: openssl rand -hex 32';

export interface ResolvedSecret {
  readonly value: string;
  readonly source: 'env' | 'generated' | 'file' | 'test';
}

/**
 * SECRET_KEY from the environment; in development a missing key is generated
 * once into DATA_DIR/secret_key (mode 0600) and reused. Production refuses a
 * missing or short key. The cron secret is never generated (see config).
 */
export function resolveSecretKey(
  reader: EnvReader,
  options: { production: boolean; dataDir: string; override: string | undefined },
): ResolvedSecret {
  if (options.override !== undefined) return { value: options.override, source: 'test' };
  const fromEnv = reader.raw('SECRET_KEY');
  if (fromEnv !== undefined) {
    if (options.production && Buffer.byteLength(fromEnv) < MIN_SECRET_BYTES) {
      throw new ConfigError('SECRET_KEY', `must be at least ${MIN_SECRET_BYTES} bytes in production; ${HOW_TO_GENERATE}`);
    }
    return { value: fromEnv, source: 'env' };
  }
  if (options.production) {
    throw new ConfigError('SECRET_KEY', `is required when NODE_ENV=production; ${HOW_TO_GENERATE}`);
  }
  const file = join(options.dataDir, 'secret_key');
  if (existsSync(file)) {
    return { value: readFileSync(file, 'utf8').trim(), source: 'file' };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const value = randomBytes(32).toString('hex');
  // `wx` so two processes starting together cannot overwrite each other's key.
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { value: readFileSync(file, 'utf8').trim(), source: 'file' };
    }
    throw error;
  }
  chmodSync(file, 0o600);
  return { value, source: 'generated' };
}
