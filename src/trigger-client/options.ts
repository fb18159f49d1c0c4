import { parseDuration } from '../duration.js';
import { defaultLockFile } from './lock.js';
import { AUTH_MODES, defaultPath, type AuthMode } from './request.js';
import { DEFAULT_SECRET_ENV, readSecret } from './secret.js';
import type { TriggerOptions } from './trigger.js';

/** `curfew trigger`'s options as typed on the command line (strings, unchecked). */
export interface RawTriggerArgs {
  readonly job?: string | undefined;
  readonly due?: boolean | undefined;
  readonly url?: string | undefined;
  readonly secretEnv?: string | undefined;
  readonly mode?: string | undefined;
  readonly method?: string | undefined;
  readonly path?: string | undefined;
  readonly csrf?: boolean | undefined;
  readonly timeout?: string | undefined;
  readonly retries?: string | undefined;
  readonly retryDelay?: string | undefined;
  readonly minInterval?: string | undefined;
  readonly lockFile?: string | undefined;
  readonly logFile?: string | undefined;
}

export type ParsedTriggerArgs =
  | { readonly ok: true; readonly options: TriggerOptions; readonly logFile: string | undefined }
  | { readonly ok: false; readonly message: string };

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

function usage(message: string): ParsedTriggerArgs {
  return { ok: false, message };
}

/**
 * Validates the command line and the environment into TriggerOptions.
 * Every problem is a usage error (exit 64) with a message naming the option.
 */
export function parseTriggerArgs(raw: RawTriggerArgs, env: Readonly<Record<string, string | undefined>>): ParsedTriggerArgs {
  if (raw.url === undefined || raw.url === '') return usage('--url is required, e.g. --url https://auth.example.com');
  let baseUrl: URL;
  try {
    baseUrl = new URL(raw.url);
  } catch {
    return usage(`--url "${raw.url}" is not a URL; use e.g. https://auth.example.com`);
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') return usage('--url must be http:// or https://');
  if (baseUrl.username !== '' || baseUrl.password !== '' || baseUrl.search !== '') {
    return usage('--url must not carry credentials or a query; the secret comes from --secret-env');
  }
  if (raw.job !== undefined && raw.due) return usage('give either a job name or --due, not both');
  if (raw.job !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(raw.job)) return usage(`job "${raw.job}" is not a job name (kebab-case, e.g. flush-expired-tokens)`);

  const mode = (raw.mode ?? 'signed') as AuthMode;
  if (!AUTH_MODES.includes(mode)) return usage(`--mode must be one of ${AUTH_MODES.join(', ')}`);
  const method = (raw.method ?? 'POST').toUpperCase();
  if (!METHODS.has(method)) return usage(`--method must be one of ${[...METHODS].join(', ')}`);
  const path = raw.path ?? defaultPath(raw.job);
  if (!path.startsWith('/')) return usage('--path must start with /');
  if (/[?&]token=/i.test(path)) return usage('--path must not carry token=; use --mode query');

  const timeoutMs = parseDuration(raw.timeout ?? '10s');
  if (timeoutMs === undefined || timeoutMs <= 0) return usage('--timeout must be a duration such as 10s or 500ms');
  const retries = Number(raw.retries ?? '3');
  if (!Number.isInteger(retries) || retries < 0 || retries > 10) return usage('--retries must be an integer from 0 to 10');
  const retryDelayMs = parseDuration(raw.retryDelay ?? '1s');
  if (retryDelayMs === undefined) return usage('--retry-delay must be a duration such as 1s');

  let guard: TriggerOptions['guard'];
  if (raw.minInterval !== undefined) {
    const minIntervalMs = parseDuration(raw.minInterval);
    if (minIntervalMs === undefined || minIntervalMs <= 0) return usage('--min-interval must be a duration such as 59s');
    const lockFile = raw.lockFile ?? defaultLockFile(baseUrl.toString(), `${method} ${path}`);
    guard = { lockFile, minIntervalMs };
  } else if (raw.lockFile !== undefined) {
    return usage('--lock-file needs --min-interval');
  }

  const secret = readSecret(env, raw.secretEnv ?? DEFAULT_SECRET_ENV);
  if (!secret.found) return usage(secret.message);

  const target = { baseUrl, job: raw.job, method, path, mode };
  return { ok: true, logFile: raw.logFile, options: { target, secret: secret.secret, csrf: raw.csrf ?? false, timeoutMs, retries, retryDelayMs, guard } };
}
