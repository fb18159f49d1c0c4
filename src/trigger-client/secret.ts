/** Where `curfew trigger` found its secret, for error messages (never the value). */
export type SecretLookup = { readonly found: true; readonly secret: string; readonly from: string } | { readonly found: false; readonly message: string };

export const DEFAULT_SECRET_ENV = 'CRON_SECRET';

/**
 * Reads the trigger secret from the variable named `name` (default CRON_SECRET).
 * Only with the default name, an unset CRON_SECRET falls back to the first
 * entry of CRON_SECRETS, the server's own list, so one `.env` serves both.
 */
export function readSecret(env: Readonly<Record<string, string | undefined>>, name: string = DEFAULT_SECRET_ENV): SecretLookup {
  const direct = env[name]?.trim();
  if (direct) return { found: true, secret: direct, from: name };
  if (name === DEFAULT_SECRET_ENV) {
    const first = (env.CRON_SECRETS ?? '').split(',').map((part) => part.trim()).find((part) => part !== '');
    if (first) return { found: true, secret: first, from: 'CRON_SECRETS' };
  }
  const hint = name === DEFAULT_SECRET_ENV ? 'CRON_SECRET (or CRON_SECRETS)' : name;
  return {
    found: false,
    message: `no trigger secret: the environment variable ${hint} is not set. Export it (the same value as the server's CRON_SECRETS) or name another variable with --secret-env.`,
  };
}
