/** Where throttle counts live (the database, so every instance sees them). */
export interface ThrottleStore {
  /** Counts one request and returns the window's count including it; atomic. */
  hit(route: string, caller: string, windowStart: number, windowEnd: number): Promise<number>;
  prune(now: number): Promise<number>;
}

export interface ThrottleDecision {
  readonly allowed: boolean;
  readonly count: number;
  /** Whole seconds until the window ends (the Retry-After value). */
  readonly retryAfterSeconds: number;
}

/**
 * A fixed-window counter: `max` requests per `windowMs`, windows aligned to
 * the epoch so every instance agrees on where a window starts. A burst of up
 * to 2 x max across a window boundary is possible; that is the price of one
 * atomic upsert per request, and fine for a trigger budget.
 */
export async function throttle(
  store: ThrottleStore,
  key: { readonly route: string; readonly caller: string },
  limits: { readonly max: number; readonly windowMs: number; readonly now: number },
): Promise<ThrottleDecision> {
  const start = Math.floor(limits.now / limits.windowMs) * limits.windowMs;
  const end = start + limits.windowMs;
  const count = await store.hit(key.route, key.caller, start, end);
  return {
    allowed: count <= limits.max,
    count,
    retryAfterSeconds: Math.max(1, Math.ceil((end - limits.now) / 1000)),
  };
}

/** One tier of a throttle: `max` requests per `windowMs`. */
export interface ThrottleLimit {
  readonly max: number;
  readonly windowMs: number;
}

/**
 * Several fixed-window tiers at once (CRON_THROTTLE=10/10m,1/1m), all of
 * which must allow the request. Tiers are counted from the shortest window
 * to the longest (one atomic upsert each, so every tier holds across
 * instances), stopping at the first that refuses: a caller retrying too
 * early is refused by the short tier without spending the long tier's
 * budget. Refused: the Retry-After of the tier that refused. Each tier's
 * counter is its own row (the window is part of the bucket key), so windows
 * of different lengths starting at the same instant never share a count.
 */
export async function throttleTiers(
  store: ThrottleStore,
  key: { readonly route: string; readonly caller: string },
  tiers: readonly ThrottleLimit[],
  now: number,
): Promise<ThrottleDecision> {
  let last: ThrottleDecision = { allowed: true, count: 0, retryAfterSeconds: 1 };
  for (const tier of [...tiers].sort((x, y) => x.windowMs - y.windowMs)) {
    last = await throttle(store, { route: tierBucket(key.route, tier, tiers.length), caller: key.caller }, { max: tier.max, windowMs: tier.windowMs, now });
    if (!last.allowed) return last;
  }
  return last;
}

/** One tier keeps the plain route as its bucket; with several, each tier's window is appended (`/cron/run@60s`). */
function tierBucket(route: string, tier: ThrottleLimit, count: number): string {
  return count === 1 ? route : `${route}@${Math.round(tier.windowMs / 1000)}s`;
}
