/**
 * The throttle bucket of a trigger request: the route as registered (its
 * pattern, e.g. `/cron/jobs/:name/run`) with its parameters filled in from
 * the router's decoded values, so the job is part of the key
 * (`/cron/jobs/flush-expired-tokens/run`) and nothing the caller spells
 * differently gets a fresh budget: absolute-form targets
 * (`POST http://any-host/cron/run`), a trailing `#` or `/`, query strings,
 * percent-escapes and doubled slashes all map to the route they reached.
 * The caller (client IP) is the bucket's other half. Issue 16 #11.
 */
export function throttleRoute(pattern: string, params: unknown): string {
  const values = typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {};
  const filled = pattern.replace(/:([A-Za-z0-9_]+)/g, (whole, name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : whole;
  });
  return filled.length > 1 ? filled.replace(/\/+$/, '') : filled;
}
