/**
 * The timers the runner and its leases use (heartbeats, job timeouts, retry
 * back-off, waiting out a silent lease holder). Real timers by default; a
 * simulator injects virtual ones together with its clock, so the real runner
 * runs in virtual time.
 */
export interface Timers {
  /**
   * Calls `fn` once after `ms`; returns a function that cancels it. `keepAlive`
   * (default false) keeps the process alive while the timer is pending, as a
   * run in flight must (`curfew jobs run`).
   */
  after(ms: number, fn: () => void, keepAlive?: boolean): () => void;
}

/** Node's own timers (unref'd unless `keepAlive`). */
export const systemTimers: Timers = {
  after(ms, fn, keepAlive = false) {
    const timer = setTimeout(fn, ms);
    if (!keepAlive) timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` on `timers` (keeping the process alive meanwhile), or at once when `signal` aborts. */
export function delay(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = timers.after(ms, done, true);
    signal?.addEventListener('abort', done, { once: true });
  });
}
