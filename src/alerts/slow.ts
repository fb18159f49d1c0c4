/**
 * "Far outside its usual duration": a successful run slower than `factor`
 * times the median of the job's recent successful runs on this instance,
 * and at least `minExtraMs` slower, once `minSamples` runs are known.
 */
export class DurationHistory {
  private readonly samples = new Map<string, number[]>();

  /**
   * @param size recent durations kept per job (default 20)
   * @param minSamples runs needed before judging (default 5)
   * @param factor how many medians is slow (default 3)
   * @param minExtraMs slowness below this is noise (default 1000)
   */
  constructor(
    readonly size = 20,
    readonly minSamples = 5,
    readonly factor = 3,
    readonly minExtraMs = 1000,
  ) {}

  median(job: string): number | undefined {
    const list = this.samples.get(job);
    if (list === undefined || list.length < this.minSamples) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  }

  add(job: string, durationMs: number): void {
    const list = this.samples.get(job) ?? [];
    list.push(durationMs);
    if (list.length > this.size) list.shift();
    this.samples.set(job, list);
  }
}

/** Judges `durationMs` against the history, then adds it. Undefined while too few samples exist. */
export function isSlow(history: DurationHistory, job: string, durationMs: number): { slow: boolean; usualMs: number } | undefined {
  const usual = history.median(job);
  history.add(job, durationMs);
  if (usual === undefined) return undefined;
  const slow = durationMs > usual * history.factor && durationMs - usual >= history.minExtraMs;
  return { slow, usualMs: usual };
}
