import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { openStorage } from '../src/db/connect.js';
import type { Storage } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { CronRunsRepository } from '../src/db/repositories/cron-runs.js';
import { DEFAULT_LEASE_TIMING } from '../src/jobs/lease.js';
import type { CronRunRow } from '../src/db/repositories/cron-runs.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../test/helpers/app.js';
import { createTestDatabase, testEngine, type TestDatabase, type TestEngine } from '../test/helpers/database.js';
import { SimInstance } from './instance.js';
import { AlertRecorder } from './alerts.js';
import { BodyRecorder, SIM_JOBS } from './jobs.js';
import { checkLateness } from './oracle-lateness.js';
import { checkOracle, type OracleResult, type Silence, type SkewWindow } from './oracle.js';
import { prng, World } from './world.js';

export interface SimOptions {
  /** Virtual days (default 30). */
  readonly days?: number;
  /** Instances sharing the database (default 3). */
  readonly instances?: number;
  readonly seed: number;
  /** Default: the test engine (DATABASE_URL); sqlite runs in memory, postgres in a fresh schema of DATABASE_URL / PG_TEST_URL. */
  readonly engine?: TestEngine;
  /** Virtual start (default DEFAULT_START, 2026-03-05T00:00Z). */
  readonly start?: number;
  /** Inject faults (default true). */
  readonly faults?: boolean;
  /** How often each instance's alert monitor checks lateness (default 30 min of virtual time; a check reads status() of every job). */
  readonly alertIntervalMs?: number;
}

export interface SimReport extends OracleResult {
  readonly seed: number;
  readonly engine: TestEngine;
  readonly start: number;
  readonly end: number;
  readonly events: number;
  readonly faults: { crashes: number; pauses: number; allDown: number; skews: number; calls: number; busy: number };
  /** Alerts the real monitors sent (every kind, firing and resolved). */
  readonly alerts: number;
  /** Lateness verdicts (check × job) the oracle judged. */
  readonly latenessJudged: number;
  readonly wallMs: number;
  /** CPU time of this process during the run (user + system), in ms: the machine is shared, wall time is not. */
  readonly cpuMs: number;
}

const MIN = 60_000;
const HOUR = 3_600_000;
/** Default start: 30 days from here cross New York's and Berlin's spring-forward (8 and 29 March 2026). */
export const DEFAULT_START = Date.UTC(2026, 2, 5);

/**
 * A fresh database for one run: for SQLite an in-memory one (a 30-day run
 * writes about a million rows and throws them away), for PostgreSQL a new
 * schema from the test helpers.
 */
async function simDatabase(engine: TestEngine = testEngine()): Promise<TestDatabase> {
  if (engine !== 'sqlite') return createTestDatabase(engine);
  const dir = mkdtempSync(join(tmpdir(), 'curfew-sim-'));
  return {
    engine: 'sqlite',
    env: { DATABASE_URL: 'sqlite::memory:', DATA_DIR: dir },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Plan = Array<{ at: number; what: () => void }>;

/**
 * Runs the real jobs service and scheduler of `instances` processes over one
 * database for `days` virtual days with seeded faults and outside callers,
 * then checks the oracle. Deterministic per seed on SQLite.
 */
export async function simulate(options: SimOptions): Promise<SimReport> {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const days = options.days ?? 30;
  const count = options.instances ?? 3;
  const seed = options.seed;
  const start = options.start ?? DEFAULT_START;
  const end = start + days * 86_400_000;
  const random = prng(seed);
  const between = (low: number, high: number) => low + random() * (high - low);
  const database = await simDatabase(options.engine);
  const config = loadConfig({ env: { ...BASE_TEST_ENV, ...database.env }, secretKey: TEST_SECRET_KEY });
  const storages: Storage[] = [];
  const open = () => {
    // SQLite: one in-memory database and connection for every instance. Each statement commits on its own
    // and the scheduler's code opens no transaction, so one connection answers as one per process on a
    // shared file would (same seed, same events, same ledger), without the file's write calls.
    if (config.database.kind === 'sqlite' && storages[0] !== undefined) return storages[0];
    const storage = openStorage(config.database);
    storages.push(storage);
    return storage;
  };
  const schema = config.database.kind === 'postgres' ? config.database.schema : undefined;
  const admin = open();
  await migrateToLatest(admin, schema);

  const world = new World(start);
  const recorder = new BodyRecorder(world);
  const alerts = new AlertRecorder(() => world.now, () => world.events);
  const alertIntervalMs = options.alertIntervalMs ?? 30 * MIN;
  const silences: Array<{ instance: string; from: number; to: number; kind: 'crash' | 'pause' }> = [];
  const slots: Array<SimInstance | undefined> = [];
  let incarnations = 0;
  let allDown = false;
  const tally = { crashes: 0, pauses: 0, allDown: 0, skews: 0, calls: 0, busy: 0 };

  // Clock skew per machine (instance index): a restart keeps the machine's clock.
  const skew: number[] = Array.from({ length: count }, () => 0);
  const skews: SkewWindow[] = [];
  const boot = (index: number) => {
    if (slots[index]?.up === true || slots[index]?.owner.state === 'paused') return;
    incarnations += 1;
    const instance = new SimInstance(`sim-${index}#${incarnations}`, world, open(), { seed, recorder, alerts, skewMs: skew[index]!, alertIntervalMs });
    slots[index] = instance;
    instance.start();
  };
  const crash = (index: number) => {
    const instance = slots[index];
    if (instance === undefined || instance.owner.state === 'down') return;
    const paused = silences.find((s) => s.instance === instance.id && s.kind === 'pause' && s.to === Number.POSITIVE_INFINITY);
    if (paused) paused.to = world.now;
    instance.crash();
    silences.push({ instance: instance.id, from: world.now, to: Number.POSITIVE_INFINITY, kind: 'crash' });
  };

  // The fault plan, drawn up front from the seed; faults stop two hours before the end so the tail settles.
  const plan: Plan = [];
  const faultsUntil = end - 2 * HOUR;
  if (options.faults !== false) {
    // One 3-hour all-down window, when the run is long enough for it to end before the faults stop.
    if (end - start >= 9 * HOUR) {
      const from = between(start + 3 * HOUR, Math.max(start + 3 * HOUR, faultsUntil - 4 * HOUR));
      plan.push({ at: from, what: () => ((allDown = true), (tally.allDown += 1), slots.forEach((_s, i) => crash(i))) });
      plan.push({ at: from + 3 * HOUR, what: () => ((allDown = false), slots.forEach((_s, i) => boot(i))) });
    }
    for (let index = 0; index < count; index += 1) {
      for (let t = start + between(HOUR, 2 * 86_400_000); t < faultsUntil; t += between(6 * HOUR, 3 * 86_400_000)) {
        // Half the crashes land during slow-5m's runs (1 s – 4 min after its slot), so a lease is left behind.
        const at = random() < 0.5 ? Math.floor(t / (5 * MIN)) * 5 * MIN + between(1000, 4 * MIN) : t;
        const restart = at + between(MIN, 30 * MIN);
        plan.push({ at, what: () => ((tally.crashes += slots[index]?.up === true ? 1 : 0), crash(index)) });
        plan.push({ at: restart, what: () => (allDown ? undefined : boot(index)) });
      }
      for (let t = start + between(HOUR, 2 * 86_400_000); t < faultsUntil; t += between(6 * HOUR, 2 * 86_400_000)) {
        const length = between(20_000, 5 * MIN);
        let paused: SimInstance | undefined;
        let silence: Silence & { to: number } | undefined;
        plan.push({
          at: t,
          what: () => {
            const instance = slots[index];
            if (instance?.up !== true) return;
            paused = instance;
            tally.pauses += 1;
            instance.pause();
            silence = { instance: instance.id, from: world.now, to: Number.POSITIVE_INFINITY, kind: 'pause' };
            silences.push(silence);
          },
        });
        plan.push({
          at: t + length,
          what: () => {
            if (paused?.owner.state !== 'paused') return;
            if (silence) silence.to = world.now;
            paused.resume();
          },
        });
      }
    }
  }
  if (options.faults !== false) {
    // One machine's clock jumps forward or back by 1 s to 5 min (log-uniform) for 10 min to 3 h, then back.
    // A separate stream, so the other faults of a seed stay as they were before skew existed.
    const skewRandom = prng(seed ^ 0x5ce3);
    const machine = Math.floor(skewRandom() * count);
    for (let t = start + HOUR + skewRandom() * 86_400_000; t < faultsUntil; t += 6 * HOUR + skewRandom() * 2 * 86_400_000) {
      const ms = Math.round((skewRandom() < 0.5 ? -1 : 1) * 1000 * 300 ** skewRandom());
      const window: SkewWindow = { machine: `sim-${machine}`, from: t, to: Math.min(faultsUntil, t + 10 * MIN + skewRandom() * 170 * MIN), ms };
      skews.push(window);
      const jump = (to: number) => () => {
        skew[machine] = to;
        const instance = slots[machine];
        if (instance !== undefined) instance.skewMs = to;
      };
      plan.push({ at: window.from, what: jump(ms) });
      plan.push({ at: window.to, what: jump(0) });
    }
    tally.skews = skews.length;
  }
  // Outside callers (the /cron/run and /cron/run/:job equivalents): random moments, double-fire, retries.
  const jobNames = SIM_JOBS.map((spec) => spec.name);
  const fire = (retriesLeft: number) => {
    const live = slots.filter((s): s is SimInstance => s?.up === true);
    if (live.length === 0) return;
    const target = live[Math.floor(random() * live.length)]!;
    tally.calls += 1;
    const adHoc = random() < 0.25 ? jobNames[Math.floor(random() * jobNames.length)] : undefined;
    const caller = { ip: '127.0.0.1', userAgent: 'curfew-sim', requestId: `sim-${tally.calls}` };
    const call =
      adHoc === undefined
        ? target.service.runDue('http', caller).then((outcome) => void (outcome.busy ? (tally.busy += 1) : undefined))
        : target.service.runJob(adHoc, { dryRun: false, trigger: 'http', caller }).then(() => undefined);
    call.catch(() => undefined);
    if (retriesLeft > 0 && random() < 0.3) fire(retriesLeft - 1); // double-fire, at the same instant
    if (retriesLeft > 0 && random() < 0.25) world.at(world.now + between(1000, MIN), undefined, () => fire(retriesLeft - 1));
  };
  for (let t = start + between(0, 30 * MIN); t < end; t += between(MIN, 40 * MIN)) plan.push({ at: t, what: () => fire(2) });
  for (const step of plan) world.at(step.at, undefined, step.what);

  for (let index = 0; index < count; index += 1) boot(index);
  await world.run(end);
  // Freeze everything: nothing of any incarnation runs after the end.
  for (const instance of slots) instance?.crash();
  await world.settle();

  const ledger = new CronRunsRepository(admin);
  const definitions = slots[0]!.service.definitions();
  const rows: CronRunRow[] = (await Promise.all(definitions.map((d) => ledger.listByJob(d.name, 10_000_000)))).flat();
  const ttl = DEFAULT_LEASE_TIMING.ttlMs;
  const result = checkOracle({
    definitions,
    rows,
    segments: recorder.segments,
    silences,
    skews,
    start,
    checkUntil: end - HOUR,
    end,
    leaseTtlMs: ttl,
    takeoverSlackMs: ttl + DEFAULT_LEASE_TIMING.heartbeatMs + MIN,
  });
  const lateness = checkLateness({
    definitions,
    lateAfter: new Map(slots[0]!.service.registry.all().map((job) => [job.definition.name, job.lateAfterMs])),
    rows,
    recorder: alerts,
  });
  for (const tally of result.tallies) tally.lateEpisodes = lateness.episodes.get(tally.job) ?? 0;
  result.violations.push(...lateness.violations);
  result.violations.sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0));
  await Promise.allSettled(storages.map((storage) => storage.close()));
  await database.drop();
  return { ...result, alerts: lateness.alerts, latenessJudged: lateness.judged, seed, engine: database.engine, start, end, events: world.events, faults: tally, wallMs: performance.now() - wallStart, cpuMs: cpuSince(cpuStart) };
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
