/** A tick's counts (seed 002): what it looked at, queued, sent, skipped (with reasons), failed and left unknown. */
export interface TickCounts {
  processed: number;
  queued: number;
  sent: number;
  skipped: number;
  failed: number;
  unknown: number;
  retried: number;
  [reason: `skipped_${string}`]: number;
}

/** All counts at zero. */
export const zeroCounts = (): TickCounts => ({ processed: 0, queued: 0, sent: 0, skipped: 0, failed: 0, unknown: 0, retried: 0 });
