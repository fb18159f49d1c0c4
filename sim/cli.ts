/**
 * `npm run simulate -- --days 30 --instances 3 --seed 42 [--engine sqlite|postgres] [--start ISO] [--seeds N]`
 * Runs the deterministic simulation (sim/simulate.ts), prints a summary table
 * and exits 1 on any oracle violation, naming the seed and the first violating slot.
 */
import { parseArgs } from 'node:util';
import { iso } from './oracle.js';
import { simulate, type SimReport } from './simulate.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    instances: { type: 'string', default: '3' },
    seed: { type: 'string' },
    seeds: { type: 'string', default: '1' },
    engine: { type: 'string', default: 'sqlite' },
    start: { type: 'string' },
    'no-faults': { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return value;
}

function print(report: SimReport): void {
  const rows = report.tallies.filter((t) => t.slots > 0 || t.runs > 0);
  const head = ['job', 'slots', 'runs', 'ok', 'failed', 'timed_out', 'skipped', 'missed', 'dst-gap', 'running', 'late'];
  const lines = rows.map((t) => [t.job, t.slots, t.runs, t.ok, t.failed, t.timedOut, t.skipped, t.missed, t.dstGap, t.running, t.lateEpisodes].map(String));
  const sum = (key: keyof (typeof rows)[number]) => String(rows.reduce((n, t) => n + (t[key] as number), 0));
  lines.push(['TOTAL', sum('slots'), sum('runs'), sum('ok'), sum('failed'), sum('timedOut'), sum('skipped'), sum('missed'), sum('dstGap'), sum('running'), sum('lateEpisodes')]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`seed ${report.seed} · ${report.engine} · ${iso(report.start)} → ${iso(report.end)} · ${report.events} events · ${(report.wallMs / 1000).toFixed(1)} s wall, ${(report.cpuMs / 1000).toFixed(1)} s CPU`);
  console.log(format(head));
  for (const line of lines) console.log(format(line));
  const f = report.faults;
  console.log(
    `faults: ${f.crashes} crashes, ${f.pauses} pauses, ${f.allDown} all-down (3 h), ${f.skews} clock skews · outside calls ${f.calls} (${f.busy} busy) · takeovers ${report.takeovers} · skipped for a silent holder ${report.skippedForSilentHolder} · alerts ${report.alerts} (lateness judged ${report.latenessJudged}×) · violations ${report.violations.length}`,
  );
  const first = report.violations[0];
  if (first !== undefined) {
    console.log(`FIRST VIOLATION (replay with --seed ${report.seed}): ${first.kind} · job ${first.job} · slot ${first.slot === null ? 'ad hoc' : iso(first.slot)} · ${first.detail}`);
    for (const v of report.violations.slice(1, 10)) console.log(`  also: ${v.kind} · ${v.job} · ${v.slot === null ? 'ad hoc' : iso(v.slot)} · ${v.detail}`);
  }
}

async function main(): Promise<number> {
  const engine = values.engine;
  if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`--engine must be sqlite or postgres, got "${engine}"`);
  const days = positive('days', values.days);
  const instances = positive('instances', values.instances);
  const seeds = positive('seeds', values.seeds);
  const first = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positive('seed', values.seed);
  const start = values.start === undefined ? undefined : Date.parse(values.start);
  if (start !== undefined && Number.isNaN(start)) throw new Error(`--start must be an ISO date, got "${values.start}"`);
  let failed = 0;
  for (let i = 0; i < seeds; i += 1) {
    const report = await simulate({ days, instances, seed: first + i, engine, faults: !values['no-faults'], ...(start === undefined ? {} : { start }) });
    print(report);
    if (report.violations.length > 0) failed += 1;
  }
  if (seeds > 1) console.log(`${seeds} seeds from ${first}: ${failed} with violations`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
