// `npm run bench -- enumeration`: do resend-activation and password-reset take
// as long for an address with an account as for one without? Sequential
// requests against a server in a child process (loopback only), existing and
// unknown addresses interleaved so drift hits both alike; medians and their
// ratio (the unknown address is the reference). SQLite, and PostgreSQL when
// BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test) answers.
// Bounded: BENCH_ENUM_REQUESTS per kind (default 300) after 40 warm-up requests.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startChild } from './child.js';

const REQUESTS = Number(process.env.BENCH_ENUM_REQUESTS ?? 300);
const WARMUP = 40;
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Case {
  readonly route: string;
  /** The address with an account (the one that does the mail work). */
  readonly existing: string;
}

const CASES: readonly Case[] = [
  { route: '/api/v1/activate/resend/', existing: 'pending@example.com' },
  { route: '/api/v1/password/reset/', existing: 'active@example.com' },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function timed(url: string, email: string): Promise<{ ms: number; status: number; body: string }> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
  const body = await response.text();
  return { ms: performance.now() - started, status: response.status, body };
}

interface Line {
  readonly engine: string;
  readonly route: string;
  readonly existing: number[];
  readonly unknown: number[];
  readonly sameAnswers: boolean;
}

async function measure(engine: string, env: Record<string, string>): Promise<Line[]> {
  const server = await startChild('bench/enumeration-server.ts', 'serve', env);
  const lines: Line[] = [];
  try {
    for (const { route, existing } of CASES) {
      const url = `${server.url}${route}`;
      const times = { existing: [] as number[], unknown: [] as number[] };
      const answers = new Set<string>();
      for (let i = 0; i < WARMUP + REQUESTS; i++) {
        // Alternate which kind goes first, so neither always follows the other's deferred work.
        const order: Array<'existing' | 'unknown'> = i % 2 === 0 ? ['existing', 'unknown'] : ['unknown', 'existing'];
        for (const kind of order) {
          const result = await timed(url, kind === 'existing' ? existing : 'nobody@example.com');
          answers.add(`${result.status} ${result.body}`);
          if (i >= WARMUP) times[kind].push(result.ms);
        }
      }
      lines.push({ engine, route, existing: times.existing, unknown: times.unknown, sameAnswers: answers.size === 1 });
    }
  } finally {
    await server.stop();
  }
  return lines;
}

function baseEnv(dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    SECRET_KEY: randomBytes(32).toString('hex'),
    SCHEDULER: 'off',
    LOG_LEVEL: 'warn',
    // The throttle would answer 429 long before the sample is complete.
    ACCOUNT_MAIL_ADDRESS_MAX: '1000000',
    ACCOUNT_MAIL_IP_MAX: '1000000',
  };
}

async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pgSchema(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

export default async function enumeration(): Promise<void> {
  const lines: Line[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'curfew-bench-enum-'));
  try {
    lines.push(...(await measure('sqlite', { ...baseEnv(dir), DATABASE_URL: `sqlite:${join(dir, 'curfew.db')}` })));
    if (await pgAvailable()) {
      const schema = `bench_${randomBytes(5).toString('hex')}`;
      await pgSchema(`create schema ${schema}`);
      try {
        const pgDir = mkdtempSync(join(tmpdir(), 'curfew-bench-enum-pg-'));
        lines.push(...(await measure('postgres', { ...baseEnv(pgDir), DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema })));
        rmSync(pgDir, { recursive: true, force: true });
      } finally {
        await pgSchema(`drop schema if exists ${schema} cascade`);
      }
    } else {
      process.stdout.write(`PostgreSQL not reachable at ${PG_URL}: SQLite only\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = (value: number) => value.toFixed(2).padStart(8);
  process.stdout.write(`\nenumeration: ${REQUESTS} sequential requests per kind after ${WARMUP} warm-up; ms; ratio = existing / unknown (medians)\n`);
  process.stdout.write('engine    route                        existing p50  unknown p50   ratio  existing p90  unknown p90  same status+body\n');
  for (const line of lines) {
    const ratio = median(line.existing) / median(line.unknown);
    process.stdout.write(
      `${line.engine.padEnd(9)} ${line.route.padEnd(28)} ${ms(median(line.existing))}     ${ms(median(line.unknown))}  ${ratio.toFixed(2).padStart(6)}      ${ms(percentile(line.existing, 90))}     ${ms(percentile(line.unknown, 90))}  ${line.sameAnswers ? 'yes' : 'NO'}\n`,
    );
  }
}
