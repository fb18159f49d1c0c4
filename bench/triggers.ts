/**
 * `npm run bench -- triggers`: figures for the trigger side (not a test).
 *
 * 1. Ceiling: a bare Fastify app answering a small JSON 401, versus curfew's
 *    `/cron/run` refusing a flood of wrong secrets (target >= 0.8 x ceiling),
 *    with the database row counts and WAL size compared before and after
 *    (target: 0 writes).
 * 2. Request -> job-function start latency for `POST /cron/jobs/<name>/run`
 *    (target p50 <= 3 ms).
 * 3. In-process slot firing jitter: how late after its slot an every-second
 *    job's function starts (target p99 <= 100 ms).
 *
 * Servers run in child processes on 127.0.0.1; every loop is bounded.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStorage } from '../src/db/connect.js';
import autocannon, { type Result } from 'autocannon';
import { measureJitter, measureStartLatency } from './triggers/latency.js';
import { alternate, type LoadFigures } from './compare.js';
import { startChild } from './triggers/load.js';

/** Seconds per flood round. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = 32;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function rowCounts(path: string): Promise<{ rows: Record<string, number>; walBytes: number }> {
  const storage = openStorage({ kind: 'sqlite', path });
  try {
    const rows: Record<string, number> = {};
    for (const table of await storage.db.introspection.getTables()) {
      const result = await sql<{ n: number }>`select count(*) as n from ${sql.table(table.name)}`.execute(storage.db);
      rows[table.name] = Number(result.rows[0]?.n ?? 0);
    }
    const wal = `${path}-wal`;
    return { rows, walBytes: existsSync(wal) ? statSync(wal).size : 0 };
  } finally {
    await storage.close();
  }
}

function changedTables(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(after).filter((name) => before[name] !== after[name]);
}

interface Flood {
  readonly result: Result;
  /** Requests per second over the measured wall time (autocannon's own duration is whole seconds). */
  readonly rate: number;
}

async function flood(url: string, headers: Record<string, string>, seconds: number, path = '/cron/run'): Promise<Flood> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error('benchmarks target loopback only');
  const method = path === '/cron/run' ? 'POST' : 'GET';
  const started = performance.now();
  // Timed, not counted: with `amount` autocannon stops on a whole-second tick, which skews short runs.
  const result = await autocannon({ url: `${url}${path}`, method, headers, connections: CONCURRENCY, duration: seconds, timeout: 10 });
  return { result, rate: result.requests.total / ((performance.now() - started) / 1000) };
}

/**
 * Bare Fastify vs curfew refusing wrong secrets, alternating rounds (the
 * machine is shared; medians count), plus the database row counts and WAL
 * size around curfew's rounds.
 */
async function ceiling(dir: string): Promise<string[]> {
  const secret = randomBytes(32).toString('hex');
  const wrong = { authorization: `Bearer ${randomBytes(32).toString('hex')}` };
  const dbPath = join(dir, 'ceiling.db');
  const bare = await startChild('bare', {});
  const curfew = await startChild('curfew', {
    NODE_ENV: 'development',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${dbPath}`,
    CRON_SECRETS: secret,
    LOG_LEVEL: 'warn',
    SCHEDULER: 'off',
  });
  try {
    await flood(bare.url, wrong, 2);
    await flood(curfew.url, wrong, 2);
    const before = await rowCounts(dbPath);
    // Every target gets the same request (POST, the same wrong Bearer), so only the server side differs.
    const figures = await alternate(
      [
        { name: 'bare', url: `${bare.url}/cron/run`, pid: bare.child.pid, method: 'POST', headers: wrong },
        { name: 'refusal', url: `${curfew.url}/cron/run`, pid: curfew.child.pid, method: 'POST', headers: wrong },
        { name: 'health', url: `${curfew.url}/health`, pid: curfew.child.pid, headers: wrong },
      ],
      { rounds: ROUNDS, seconds: SECONDS, connections: CONCURRENCY },
    );
    const [bareFig, refusalFig, healthFig] = figures as [LoadFigures, LoadFigures, LoadFigures];
    const refused = Math.round(refusalFig.rates.reduce((sum, rate) => sum + rate * SECONDS, 0));
    const after = await rowCounts(dbPath);
    const changed = changedTables(before.rows, after.rows);
    const writes = changed.length === 0 && after.walBytes === before.walBytes ? '0' : `tables changed: ${changed.join(', ') || '(none)'}, WAL ${before.walBytes} -> ${after.walBytes} bytes`;
    const rounds = (figure: LoadFigures) => figure.rates.map((rate) => rate.toFixed(0)).join(', ');
    const lines = [
      `bare Fastify ceiling (JSON 401): ${bareFig.medianRate.toFixed(0)} req/s median (${rounds(bareFig)}), ${bareFig.medianCpuUs.toFixed(1)} µs server CPU/request`,
      `curfew POST /cron/run, wrong secret: ${refusalFig.medianRate.toFixed(0)} req/s median (${rounds(refusalFig)}), ${refusalFig.medianCpuUs.toFixed(1)} µs/request = ${(refusalFig.medianRate / bareFig.medianRate).toFixed(2)} x ceiling by req/s, ${(bareFig.medianCpuUs / refusalFig.medianCpuUs).toFixed(2)} x by CPU (target >= 0.80)${refusalFig.failures > 0 ? `; ${refusalFig.failures} errors` : ''}`,
      `curfew GET /health (the app's own per-request floor, for context): ${healthFig.medianRate.toFixed(0)} req/s = ${(healthFig.medianRate / bareFig.medianRate).toFixed(2)} x ceiling; refusal / health = ${(refusalFig.medianRate / healthFig.medianRate).toFixed(2)}`,
      `database writes during ~${refused} measured wrong-secret requests: ${writes} (target 0)`,
    ];
    for (const line of lines) console.log(line);
    return lines;
  } finally {
    await Promise.all([bare.stop(), curfew.stop()]);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'curfew-bench-'));
  console.log(`# triggers benchmark (${new Date().toISOString()}, node ${process.version}, ${ROUNDS} rounds of ${SECONDS} s x ${CONCURRENCY} connections)`);
  try {
    await ceiling(dir);
    await measureStartLatency(dir);
    await measureJitter(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default main;

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
