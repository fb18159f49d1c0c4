import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openStorage } from '../../src/db/connect.js';
import { percentile, startChild } from './load.js';

function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

const ms = (us: number) => (us / 1000).toFixed(2);

/**
 * Request -> job-function start: for each of `count` sequential
 * `POST /cron/jobs/bench-probe/run` calls, the probe's reported start time
 * minus the moment the client began the request (same machine clock).
 */
export async function measureStartLatency(dir: string, count = 300): Promise<string> {
  const secret = randomBytes(32).toString('hex');
  const server = await startChild('curfew', {
    NODE_ENV: 'development',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${join(dir, 'latency.db')}`,
    CRON_SECRETS: secret,
    CRON_THROTTLE_MAX: '1000000',
    LOG_LEVEL: 'warn',
    SCHEDULER: 'off',
  });
  try {
    const samples: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < count + 50; i += 1) {
      const sent = nowUs();
      const response = await fetch(`${server.url}/cron/jobs/bench-probe/run`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
      });
      const body = (await response.json()) as { data?: { counts?: { start_us?: number } } };
      const done = nowUs();
      const start = body.data?.counts?.start_us;
      if (response.status !== 200 || start === undefined) throw new Error(`probe run failed: HTTP ${response.status}`);
      if (i >= 50) {
        samples.push(start - sent);
        total.push(done - sent);
      }
    }
    const line = `request -> job start (POST /cron/jobs/bench-probe/run, SQLite, ${count} sequential calls after 50 warm-up): p50 ${ms(percentile(samples, 50))} ms, p99 ${ms(percentile(samples, 99))} ms (target p50 <= 3 ms); whole call p50 ${ms(percentile(total, 50))} ms`;
    console.log(line);
    return line;
  } finally {
    await server.stop();
  }
}

/**
 * In-process slot firing jitter: the scheduler runs `bench-tick` every
 * second for `seconds`; each run reports how long after its slot the
 * function started. Read back from the run ledger.
 */
export async function measureJitter(dir: string, seconds = 30): Promise<string> {
  const dbPath = join(dir, 'jitter.db');
  const server = await startChild('curfew', {
    NODE_ENV: 'development',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${dbPath}`,
    LOG_LEVEL: 'warn',
    SCHEDULER: 'on',
    BENCH_TICK: '1',
    // Only the bench job: the built-ins would share the loop, not measure it.
    JOB_CHECK_INACTIVE_USERS_ENABLED: 'false',
    JOB_SEQUENCE_TICK_ENABLED: 'false',
    JOB_CLEAR_EXPIRED_SESSIONS_ENABLED: 'false',
    JOB_FLUSH_EXPIRED_TOKENS_ENABLED: 'false',
    JOB_PRUNE_CRON_RUNS_ENABLED: 'false',
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  } finally {
    await server.stop();
  }
  const storage = openStorage({ kind: 'sqlite', path: dbPath });
  try {
    const rows = await storage.db
      .selectFrom('cron_runs')
      .select(['counts', 'trigger', 'scheduled_for'])
      .where('job', '=', 'bench-tick')
      .where('status', '=', 'ok')
      .where('trigger', '=', 'schedule')
      .orderBy('scheduled_for')
      .execute();
    const all = rows
      .map((row) => (JSON.parse(row.counts) as { late_us?: number }).late_us ?? Number.NaN)
      .filter((value) => Number.isFinite(value) && value >= 0);
    // The first two slots fall while the process is still warming up (module JIT, first queries).
    const late = all.slice(2);
    const line = `in-process slot firing jitter (every-second job, ${late.length} steady slots in ${seconds} s): p50 ${ms(percentile(late, 50))} ms, p99 ${ms(percentile(late, 99))} ms (target p99 <= 100 ms); the 2 warm-up slots: ${all.slice(0, 2).map(ms).join(', ')} ms`;
    console.log(line);
    return line;
  } finally {
    await storage.close();
  }
}
