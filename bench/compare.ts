// Throughput comparisons for noisy, shared machines: several servers are up at
// once (each in its own process), load rounds alternate between them, and each
// figure is the median over rounds. Beside requests/s, the server process's own
// CPU time per request (from /proc/<pid>/stat) is reported: it does not depend
// on how much CPU the load generator or other processes took in that round.
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadTarget {
  readonly name: string;
  readonly url: string;
  /** The server's PID, for its CPU time; undefined skips the CPU column. */
  readonly pid: number | undefined;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
}

export interface LoadFigures {
  readonly name: string;
  /** Requests/s of every round, in order. */
  readonly rates: readonly number[];
  readonly medianRate: number;
  /** Server CPU microseconds per request, median over rounds (NaN without /proc). */
  readonly medianCpuUs: number;
  readonly p50: number;
  readonly p99: number;
  /** Non-2xx answers are expected for refusals; this counts errors and timeouts only. */
  readonly failures: number;
}

/** User + system CPU time of a process in ms (Linux), or NaN. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime (fields 14 and 15 of stat; 12 and 13 after the command name) in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU time in ms of every process named `postgres` on this machine (Linux), or NaN. */
export function postgresCpuMs(): number {
  try {
    let total = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
        total += processCpuMs(Number(entry));
      } catch {
        // The process ended meanwhile.
      }
    }
    return total;
  } catch {
    return Number.NaN;
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Runs `rounds` rounds; in each, every target gets `seconds` of load from
 * `connections` connections, in an order that rotates per round. Loopback only.
 */
export async function alternate(
  targets: readonly LoadTarget[],
  options: { rounds: number; seconds: number; connections: number; log?: (line: string) => void },
): Promise<LoadFigures[]> {
  const samples = targets.map(() => ({ rates: [] as number[], cpu: [] as number[], p50: [] as number[], p99: [] as number[], failures: 0 }));
  for (let round = 0; round < options.rounds; round += 1) {
    for (let k = 0; k < targets.length; k += 1) {
      const index = (round + k) % targets.length;
      const target = targets[index] as LoadTarget;
      const sample = samples[index] as (typeof samples)[number];
      if (!/^http:\/\/(127\.0\.0\.1|\[::1\]):/.test(target.url)) throw new Error('benchmarks target loopback only');
      options.log?.(`round ${round + 1}/${options.rounds}: ${target.name}`);
      const cpuBefore = processCpuMs(target.pid);
      const started = performance.now();
      const result = await autocannon({
        url: target.url,
        method: target.method ?? 'GET',
        headers: target.headers ?? {},
        connections: options.connections,
        duration: options.seconds,
        timeout: 10,
      });
      const seconds = (performance.now() - started) / 1000;
      const cpuMs = processCpuMs(target.pid) - cpuBefore;
      sample.rates.push(result.requests.total / seconds);
      sample.cpu.push((cpuMs * 1000) / Math.max(1, result.requests.total));
      sample.p50.push(result.latency.p50);
      sample.p99.push(result.latency.p99);
      sample.failures += result.errors + result.timeouts;
    }
  }
  return targets.map((target, index) => {
    const sample = samples[index] as (typeof samples)[number];
    return {
      name: target.name,
      rates: sample.rates,
      medianRate: median(sample.rates),
      medianCpuUs: median(sample.cpu),
      p50: median(sample.p50),
      p99: median(sample.p99),
      failures: sample.failures,
    };
  });
}
