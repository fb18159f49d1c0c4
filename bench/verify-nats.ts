// Phase (a) of bench/verify.ts: `curfew.auth.verify` over NATS beside two
// references measured by the same generator (bench/nats-load.ts) in the same
// rounds, the order rotating per round:
//   bare   a bare queue-group responder in another process (the ceiling)
//   floor  no responder: each request published to its own reply subject
//          (generator -> nats-server -> generator; the open-loop curve only)
// Saturation (closed loop, BENCH_IN_FLIGHT in flight; 0 skips it), then the
// open-loop curve at BENCH_RATES. Every round prints a line on stderr.
// Diagnosis (docs in bench/RESULTS.md, verify section):
//   BENCH_PROBE=1  per round: event-loop delay and GC pauses of the generator
//                  and the responder, CPU time and run-queue wait of the
//                  generator, the responder and the machine's nats-server
//   BENCH_PIN=1    the generator (this process) on CPU 1, the responders on
//                  CPU 0 (taskset; nats-server and everything else unpinned)
//   BENCH_PUMP=0   the generator sends on its 1 ms timer only (before 2026-11-30 night)
import { execFileSync } from 'node:child_process';
import type { NatsConnection } from 'nats';
import { startChild, type ChildServer } from './child.js';
import { median, processCpuMs } from './compare.js';
import { LOOPBACK, NatsLoad, type LoadResult } from './nats-load.js';
import { findPid, formatLoop, LoopProbe, schedDelta, schedstat, type LoopStats, type SchedStat } from './nats-probe.js';

const PROBE = process.env.BENCH_PROBE === '1';
const PIN = process.env.BENCH_PIN === '1';
const PUMP = process.env.BENCH_PUMP !== '0';

export interface Row {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly goal: string;
}

export interface NatsFigures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly sendLagP99: number;
  /** CPU µs per answer of the responder's process (median over rounds; NaN for the floor). */
  readonly cpuUs: number;
  /** Requests without an answer within the timeout, summed over rounds. */
  readonly lost: number;
}

export interface CurvePoint {
  readonly rate: number;
  readonly ours: NatsFigures;
  readonly bare: NatsFigures;
  readonly floor: NatsFigures;
}

export interface NatsPhaseOptions {
  readonly nc: NatsConnection;
  /** curfew's verify subject, and the subject prefix of this run. */
  readonly subject: string;
  readonly prefix: string;
  readonly request: Uint8Array;
  /** curfew's answer to `request` (the bare responder answers the same bytes). */
  readonly answer: Uint8Array;
  readonly server: ChildServer;
  readonly env: Record<string, string>;
  readonly rounds: number;
  readonly seconds: number;
  readonly inFlight: number;
  readonly rates: readonly number[];
  readonly curveSeconds: number;
}

interface Target {
  readonly name: string;
  readonly subject: string;
  readonly pid: number | undefined;
  /** The responder's probe subject suffix (verify-server.ts mode). */
  readonly mode: string | undefined;
  readonly expectedLength: number;
}

function pin(pid: number | undefined, cpus: string): void {
  if (pid !== undefined) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export async function natsPhase(options: NatsPhaseOptions): Promise<{ rows: Row[]; curve: CurvePoint[] }> {
  const { nc, prefix, request, answer, server } = options;
  const echo = await startChild('bench/verify-server.ts', 'nats-echo', { ...options.env, ECHO_REPLY: new TextDecoder().decode(answer) });
  const load = new NatsLoad(nc, PUMP);
  const rows: Row[] = [];
  const curve: CurvePoint[] = [];
  if (PIN) {
    pin(process.pid, '1');
    pin(server.pid, '0');
    pin(echo.pid, '0');
  }
  const probe = PROBE ? new LoopProbe().start() : undefined;
  const natsPid = PROBE ? findPid('nats-server') : undefined;
  const ours: Target = { name: 'curfew', subject: options.subject, pid: server.pid, mode: 'curfew', expectedLength: answer.length };
  const bare: Target = { name: 'bare', subject: `${prefix}.echo`, pid: echo.pid, mode: 'nats-echo', expectedLength: answer.length };
  const floor: Target = { name: 'floor', subject: LOOPBACK, pid: undefined, mode: undefined, expectedLength: request.length };
  const responderProbe = async (target: Target): Promise<LoopStats | undefined> => {
    if (!probe || target.mode === undefined) return undefined;
    const reply = await nc.request(`${prefix}.probe.${target.mode}`, new Uint8Array(0), { timeout: 5000 });
    return JSON.parse(new TextDecoder().decode(reply.data)) as LoopStats;
  };
  const rounds = async (targets: readonly Target[], label: string, run: (target: Target) => Promise<LoadResult>): Promise<NatsFigures[]> => {
    const samples = targets.map(() => ({ rps: [] as number[], p50: [] as number[], p99: [] as number[], p999: [] as number[], lag: [] as number[], cpu: [] as number[], lost: 0 }));
    for (let round = 0; round < options.rounds; round += 1) {
      for (let k = 0; k < targets.length; k += 1) {
        const index = (round + k) % targets.length;
        const target = targets[index] as Target;
        probe?.take();
        await responderProbe(target);
        const sched = PROBE ? [schedstat(process.pid), schedstat(target.pid), schedstat(natsPid, true)] : [];
        const cpuBefore = processCpuMs(target.pid);
        const result = await run(target);
        const cpu = ((processCpuMs(target.pid) - cpuBefore) * 1000) / Math.max(1, result.received);
        const sample = samples[index] as (typeof samples)[number];
        sample.cpu.push(cpu);
        sample.rps.push(result.rps);
        sample.p50.push(result.p50);
        sample.p99.push(result.p99);
        sample.p999.push(result.p999);
        sample.lag.push(result.sendLagP99);
        sample.lost += result.sent - result.received;
        let line = `  ${label} round ${round + 1} ${target.name.padEnd(6)} ${Math.round(result.rps)}/s p50 ${result.p50.toFixed(3)} p99 ${result.p99.toFixed(3)} p99.9 ${result.p999.toFixed(3)} lag p99 ${result.sendLagP99.toFixed(3)}`;
        if (PROBE) {
          const [gen, resp, nats] = [schedstat(process.pid), schedstat(target.pid), schedstat(natsPid, true)].map((after, i) => schedDelta(after, sched[i] as SchedStat)) as [SchedStat, SchedStat, SchedStat];
          // Main threads (event loops) of the two Node processes; every thread of nats-server.
          const wait = (s: SchedStat) => `${s.runMs.toFixed(0)}/${s.waitMs.toFixed(0)}`;
          line += `\n      run/wait ms: gen ${wait(gen)}, ${target.name} ${wait(resp)}, nats ${wait(nats)} | gen ${formatLoop(probe?.take())} | ${target.name} ${formatLoop(await responderProbe(target))}`;
        }
        process.stderr.write(`${line}\n`);
      }
    }
    return samples.map((sample) => ({
      rps: median(sample.rps),
      p50: median(sample.p50),
      p99: median(sample.p99),
      p999: median(sample.p999),
      sendLagP99: median(sample.lag),
      cpuUs: median(sample.cpu),
      lost: sample.lost,
    }));
  };
  try {
    if (options.inFlight > 0) {
      const [at, ceiling] = (await rounds([ours, bare], 'closed', (target) => load.closedLoop(target.subject, request, target.expectedLength, options.inFlight, options.seconds / 2))) as [NatsFigures, NatsFigures];
      rows.push({
        name: `(a) NATS curfew.auth.verify, ${options.inFlight} in flight (closed loop)`,
        ...at,
        goal: `saturation; server CPU ${at.cpuUs.toFixed(1)} µs/req = ${(at.cpuUs / ceiling.cpuUs).toFixed(2)}x the ceiling's${at.lost > 0 ? `; ${at.lost} unanswered` : ''}`,
      });
      rows.push({ name: '    ceiling: bare NATS responder, same payloads', ...ceiling, goal: `ceiling: responder CPU ${ceiling.cpuUs.toFixed(1)} µs/req` });
    }
    for (const rate of options.rates) {
      process.stderr.write(`(a) open loop at ${rate}/s\n`);
      const total = Math.round(rate * options.curveSeconds);
      const [at, ceiling, under] = (await rounds([ours, bare, floor], `${rate}/s`, (target) => load.openLoop(target.subject, request, target.expectedLength, rate, total))) as [NatsFigures, NatsFigures, NatsFigures];
      curve.push({ rate, ours: at, bare: ceiling, floor: under });
    }
    const atGoal = curve.find((point) => point.rate === 15_000);
    if (atGoal) {
      // Answers per second over the phase include the wait for its last answers: 1 % of slack for that.
      const met = atGoal.ours.rps >= 14_850 && atGoal.ours.p99 <= 5 && atGoal.ours.lost === 0;
      rows.push({
        name: '(a) NATS curfew.auth.verify, 15,000/s offered (open loop)',
        ...atGoal.ours,
        goal:
          `goal >= 15,000/s with p99 <= 5 ms: ${met ? 'met' : 'NOT met'} in this run; bare responder p99 ${atGoal.bare.p99.toFixed(3)} ms ` +
          `(curfew/bare ${(atGoal.ours.p99 / atGoal.bare.p99).toFixed(2)}x), no responder p99 ${atGoal.floor.p99.toFixed(3)} ms; generator lag p99 ${atGoal.ours.sendLagP99.toFixed(3)} ms`,
      });
    }
  } finally {
    probe?.stop();
    load.close();
    await echo.stop();
    if (PIN) {
      pin(process.pid, '0,1');
      pin(server.pid, '0,1');
    }
  }
  return { rows, curve };
}

/** The open-loop curve as a table on stdout. */
export function printCurve(curve: readonly CurvePoint[], rounds: number, curveSeconds: number): void {
  if (curve.length === 0) return;
  process.stdout.write(
    `\n(a) curve: open loop, rate x ${curveSeconds} s per round, medians of ${rounds} rotating rounds; latency from each request's scheduled send (ms); ` +
      `lag = the generator's own send delay; floor = no responder (generator -> nats-server -> generator); generator ${PUMP ? 'sends on its timer and on answers' : 'sends on its 1 ms timer only'}${PIN ? '; pinned: generator CPU 1, responders CPU 0' : ''}\n\n`,
  );
  const n = (value: number, width: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : '-').padStart(width);
  process.stdout.write(
    `${'offered/s'.padStart(9)}  ${'curfew/s'.padStart(9)}  ${'p50'.padStart(7)}  ${'p99'.padStart(7)}  ${'p99.9'.padStart(8)}  ${'lag p99'.padStart(8)}  ${'CPU µs'.padStart(6)}  |  ` +
      `${'bare/s'.padStart(9)}  ${'p50'.padStart(7)}  ${'p99'.padStart(7)}  ${'p99.9'.padStart(8)}  ${'lag p99'.padStart(8)}  ${'CPU µs'.padStart(6)}  |  ${'p99 ratio'.padStart(9)}  |  ${'floor p50'.padStart(9)}  ${'p99'.padStart(7)}\n`,
  );
  for (const { rate, ours, bare, floor } of curve) {
    const lost = ours.lost + bare.lost + floor.lost > 0 ? `  (unanswered: ${ours.lost} curfew, ${bare.lost} bare, ${floor.lost} floor)` : '';
    process.stdout.write(
      `${rate.toLocaleString('en-US').padStart(9)}  ${Math.round(ours.rps).toLocaleString('en-US').padStart(9)}  ${n(ours.p50, 7)}  ${n(ours.p99, 7)}  ${n(ours.p999, 8)}  ${n(ours.sendLagP99, 8)}  ${n(ours.cpuUs, 6, 1)}  |  ` +
        `${Math.round(bare.rps).toLocaleString('en-US').padStart(9)}  ${n(bare.p50, 7)}  ${n(bare.p99, 7)}  ${n(bare.p999, 8)}  ${n(bare.sendLagP99, 8)}  ${n(bare.cpuUs, 6, 1)}  |  ${n(ours.p99 / bare.p99, 9, 2)}  |  ` +
        `${n(floor.p50, 9)}  ${n(floor.p99, 7)}${lost}\n`,
    );
  }
}
