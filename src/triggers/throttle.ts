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
