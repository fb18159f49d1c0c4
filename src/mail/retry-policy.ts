/** How failed sends are retried. */
export interface RetryPolicy {
  /** Delay after the first failed attempt, in ms (default 30 s); doubles per attempt. */
  readonly baseDelayMs: number;
  /** Longest delay between attempts, in ms (default 1 h). */
  readonly maxDelayMs: number;
  /** Attempts before a row becomes `failed` for good (default 8). */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 30_000, maxDelayMs: 3_600_000, maxAttempts: 8 };

/**
 * When to try again after `attempts` failed attempts (1-based), or null when
 * the row has used up its attempts: base × 2^(attempts−1), capped.
 */
export function nextAttemptAt(now: number, attempts: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number | null {
  if (attempts >= policy.maxAttempts) return null;
  const delay = Math.min(policy.baseDelayMs * 2 ** Math.max(0, attempts - 1), policy.maxDelayMs);
  return now + delay;
}
