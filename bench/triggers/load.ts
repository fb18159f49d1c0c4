import { startChild as startBenchChild, type ChildServer } from '../child.js';

export type { ChildServer } from '../child.js';

/** Starts `bench/triggers-server.ts <mode>` and waits for its READY line. */
export function startChild(mode: string, env: Record<string, string>): Promise<ChildServer> {
  return startBenchChild('bench/triggers-server.ts', mode, env);
}

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
