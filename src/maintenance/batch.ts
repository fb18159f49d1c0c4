import { setTimeout as delay } from 'node:timers/promises';
import type { Progress } from '../jobs/types.js';

/** One batch's outcome: rows it acted on, and whether another batch may find more. */
export interface BatchStep {
  readonly rows: number;
  readonly more: boolean;
}

export interface BatchLoopOptions {
  /** Aborted on cancellation or timeout: the loop stops before the next batch. */
  readonly signal: AbortSignal;
  /** Pause between batches in ms (MAINTENANCE_BATCH_PAUSE_MS, default 5) so live queries get the database. */
  readonly pauseMs: number;
  /** Receives rows done, the total when known, and `<rows>/s ETA <s>` as the message. */
  readonly progress: (update: Progress) => void;
  /** Rows expected (for ETA); undefined when unknown. */
  readonly total?: number;
  /** Rows already done by earlier phases of the same run (progress is cumulative). */
  readonly offset?: number;
}

/** Rate and ETA text for a progress line: `12345 rows/s, ETA 40s`. */
export function rateText(done: number, elapsedMs: number, total: number | undefined): string {
  const rate = elapsedMs > 0 ? Math.round((done * 1000) / elapsedMs) : 0;
  const eta = total !== undefined && rate > 0 ? `, ETA ${Math.max(0, Math.ceil((total - done) / rate))}s` : '';
  return `${rate} rows/s${eta}`;
}

/**
 * Runs `step` until it reports no more work or `signal` aborts. Each step is
 * one short statement (one batch), so no lock is held across batches; between
 * them the loop pauses `pauseMs`. Returns the rows done and whether it was cut
 * short. Work is never counted twice: a row counts when its statement commits.
 */
export async function runBatches(step: () => Promise<BatchStep>, options: BatchLoopOptions): Promise<{ rows: number; cancelled: boolean }> {
  const started = performance.now();
  const offset = options.offset ?? 0;
  let rows = 0;
  for (;;) {
    if (options.signal.aborted) return { rows, cancelled: true };
    const batch = await step();
    rows += batch.rows;
    const done = offset + rows;
    options.progress({
      done,
      ...(options.total === undefined ? {} : { total: Math.max(options.total, done) }),
      message: rateText(rows, performance.now() - started, options.total === undefined ? undefined : options.total - offset),
    });
    if (!batch.more) return { rows, cancelled: false };
    if (options.pauseMs > 0) await delay(options.pauseMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
