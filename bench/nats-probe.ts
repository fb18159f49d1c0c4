// Where a NATS bench round's tail comes from (`BENCH_PROBE=1 npm run bench --
// verify nats`): per round, for the load generator and the responder under
// test, the event loop's delay (monitorEventLoopDelay) and GC pauses
// (PerformanceObserver 'gc'), and for the generator, the responder and the
// machine's nats-server the kernel's scheduler statistics
// (/proc/<pid>/task/*/schedstat): time on a CPU and time runnable but
// waiting for one. Waiting time is the cost of sharing the 2 cores; a loop
// delay or GC pause is the process's own stall.
import { readdirSync, readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopStats {
  /** Event-loop timer interval (1 ms resolution, so ~1 ms when idle), ms. */
  readonly loopP99: number;
  readonly loopMax: number;
  readonly gcCount: number;
  /** Summed GC pause, and the longest, ms. */
  readonly gcMs: number;
  readonly gcMaxMs: number;
  /** Scavenges and mark-compact collections among them (the rest: incremental marking steps, weak callbacks). */
  readonly minorCount: number;
  readonly majorCount: number;
}

/** Event loop delay and GC pauses of this process since the last take(). */
export class LoopProbe {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private gcCount = 0;
  private gcMs = 0;
  private gcMaxMs = 0;
  private minorCount = 0;
  private majorCount = 0;
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.gcCount += 1;
      this.gcMs += entry.duration;
      this.gcMaxMs = Math.max(this.gcMaxMs, entry.duration);
      const detail = (entry as { detail?: { kind?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.majorCount += 1;
      else if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) this.minorCount += 1;
    }
  });

  start(): this {
    this.histogram.enable();
    this.observer.observe({ entryTypes: ['gc'] });
    return this;
  }

  take(): LoopStats {
    const stats: LoopStats = {
      loopP99: this.histogram.percentile(99) / 1e6,
      loopMax: this.histogram.max / 1e6,
      gcCount: this.gcCount,
      gcMs: this.gcMs,
      gcMaxMs: this.gcMaxMs,
      minorCount: this.minorCount,
      majorCount: this.majorCount,
    };
    this.histogram.reset();
    this.gcCount = 0;
    this.gcMs = 0;
    this.gcMaxMs = 0;
    this.minorCount = 0;
    this.majorCount = 0;
    return stats;
  }

  stop(): void {
    this.histogram.disable();
    this.observer.disconnect();
  }
}

export interface SchedStat {
  /** Time on a CPU, time runnable but waiting for one (ms), summed over the process's threads. */
  readonly runMs: number;
  readonly waitMs: number;
}

/**
 * The scheduler statistics of `pid` (Linux with schedstats), or NaNs: of its
 * main thread (a Node process's event loop), or with `allThreads` summed over
 * its threads (nats-server's goroutines run on several).
 */
export function schedstat(pid: number | undefined, allThreads = false): SchedStat {
  if (pid === undefined) return { runMs: Number.NaN, waitMs: Number.NaN };
  let run = 0;
  let wait = 0;
  try {
    for (const task of allThreads ? readdirSync(`/proc/${pid}/task`) : [String(pid)]) {
      try {
        const [onCpu, waiting] = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ');
        run += Number(onCpu);
        wait += Number(waiting);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    return { runMs: Number.NaN, waitMs: Number.NaN };
  }
  return { runMs: run / 1e6, waitMs: wait / 1e6 };
}

export function schedDelta(after: SchedStat, before: SchedStat): SchedStat {
  return { runMs: after.runMs - before.runMs, waitMs: after.waitMs - before.waitMs };
}

/** The PID of the first process whose command name is `comm` (e.g. the machine's nats-server). */
export function findPid(comm: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined;
}

/** One line for a probe's figures. */
export function formatLoop(stats: LoopStats | undefined): string {
  if (!stats) return 'loop -';
  const n = (value: number) => value.toFixed(1);
  return `loop p99 ${n(stats.loopP99)} max ${n(stats.loopMax)}; gc ${stats.gcCount} (${stats.minorCount} scavenges, ${stats.majorCount} major) ${n(stats.gcMs)} ms, max ${n(stats.gcMaxMs)}`;
}
