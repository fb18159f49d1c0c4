// `npm run bench -- maintenance [--pg-expired N] [--sqlite-expired N] [--sessions N] [--skip-sqlite] [--skip-pg]`
// Maintenance jobs at scale, against a curfew server in a child process (bench/auth-server.ts):
//   PostgreSQL: N expired refresh tokens (default 10,000,000) beside N/10 live ones; flush-expired-tokens
//     duration and rows/s, p50/p99 of POST /api/v1/login/refresh/ under steady load during the flush vs
//     idle, and the naive single DELETE ... WHERE expires_at < now with the same live load;
//   SQLite: the same with 1,000,000 expired rows;
//   logout-all-users over --sessions live sessions (default 1,000,000): duration, and the time until an
//     old access token is refused by the server.
// Rows come from one INSERT ... SELECT (generate_series / a recursive CTE). Everything lives in a
// throw-away schema or temp directory that is dropped at the end. The jobs run in this process
// through the real runner, as `curfew jobs run` would.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { startChild, type ChildServer } from './child.js';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LOAD_SECONDS = Number(process.env.BENCH_DURATION ?? 8);
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench password 0123';
const DAY = 86_400_000;

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

function startServer(env: Record<string, string>): Promise<ChildServer> {
  return startChild('bench/auth-server.ts', 'curfew', { ...env, BENCH_EMAIL: EMAIL, BENCH_PASSWORD: PASSWORD });
}

async function login(url: string): Promise<Map<string, string>> {
  const response = await fetch(`${url}/api/v1/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
  }
  return cookies;
}

function setCookie(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== 'set-cookie') continue;
    for (const line of Array.isArray(value) ? value : [value]) if (line.startsWith(`${name}=`)) return line.slice(name.length + 1).split(';')[0];
  }
  return undefined;
}

interface Load {
  readonly p50: number;
  readonly p99: number;
  readonly rps: number;
  readonly failed: number;
}

/** Steady refresh load: 16 connections, each its own rotation chain, until `until` resolves (or LOAD_SECONDS). */
async function refreshLoad(url: string, until?: Promise<unknown>): Promise<Load> {
  const connections = 16;
  const pool: string[] = [];
  for (let i = 0; i < connections; i += 1) pool.push((await login(url)).get('refresh_token') ?? '');
  const instance = autocannon({
    url,
    connections,
    duration: until ? 3600 : LOAD_SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/login/refresh/',
        setupRequest: (request) => ({ ...request, headers: { cookie: `refresh_token=${pool.pop() ?? 'exhausted'}` } }),
        onResponse: (_status, _body, _context, headers) => {
          const next = setCookie(headers, 'refresh_token');
          if (next) pool.push(next);
        },
      },
    ],
  });
  // autocannon's instance is also an EventEmitter with stop(); the local typings omit it.
  if (until) void until.finally(() => (instance as unknown as { stop(): void }).stop());
  const result = await instance;
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.total / result.duration, failed: result.non2xx + result.errors + result.timeouts };
}

/** Runs `work` under steady refresh load; returns its duration and the load figures. */
async function underLoad(url: string, work: () => Promise<unknown>): Promise<{ seconds: number; load: Load }> {
  let started = 0;
  const job = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    started = performance.now();
    await work();
    return (performance.now() - started) / 1000;
  })();
  const [seconds, load] = await Promise.all([job, refreshLoad(url, job)]);
  return { seconds, load };
}

async function jobApp(env: Record<string, string>): Promise<App> {
  const app = await createApp(loadConfig({ env: { ...process.env, ...env, LOG_LEVEL: 'warn' } }));
  await app.start({ listen: false, background: false });
  return app;
}

async function runJob(app: App, name: string): Promise<Record<string, number>> {
  const summary = await app.services.jobs.runJob(name, { dryRun: false, trigger: 'cli', caller: { userAgent: 'bench' } });
  if (summary.status !== 'ok') throw new Error(`${name}: ${summary.status} ${summary.error ?? ''}`);
  return { ...summary.counts };
}

const rows: string[][] = [['case', 'rows', 'seconds', 'rows/s', 'refresh p50 ms', 'refresh p99 ms', 'refresh req/s', 'note']];
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
function record(name: string, count: number, seconds: number | undefined, load: Load | undefined, note = ''): void {
  rows.push([
    name,
    String(count),
    seconds === undefined ? '-' : seconds.toFixed(2),
    seconds === undefined ? '-' : String(Math.round(count / seconds)),
    load ? fmt(load.p50) : '-',
    load ? fmt(load.p99) : '-',
    load ? String(Math.round(load.rps)) : '-',
    [note, load && load.failed > 0 ? `${load.failed} failed` : ''].filter(Boolean).join('; '),
  ]);
  process.stderr.write(`${rows.at(-1)?.join(' | ')}\n`);
}

async function benchPostgres(expired: number, sessions: number): Promise<void> {
  const schema = `bench_maint_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const env = { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', COOKIE_SECURE: 'false', SCHEDULER: 'off', LOG_LEVEL: 'warn', SECRET_KEY: randomBytes(32).toString('hex'), DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-maint-')) };
  const server = await startServer(env);
  const app = await jobApp(env);
  try {
    await admin.query(`set search_path to ${schema}`);
    const live = Math.round(expired / 10);
    const generate = async (count: number, expiresAt: string, prefix: string) => {
      const started = performance.now();
      await admin.query(
        `insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at)
         select '${prefix}' || i, s.id, s.user_id, 0, ${expiresAt}
         from generate_series(1, ${count}) as i cross join lateral (select id, user_id from sessions order by id limit 1) s`,
      );
      await admin.query('analyze refresh_tokens');
      return (performance.now() - started) / 1000;
    };
    await login(server.url);
    const now = Date.now();
    process.stderr.write(`generating ${expired} expired + ${live} live refresh tokens...\n`);
    const genSeconds = (await generate(expired, `${now - 2 * DAY} - i`, 'x')) + (await generate(live, `${now + DAY} + i`, 'l'));
    process.stderr.write(`generated in ${genSeconds.toFixed(1)} s\n`);

    const idle = await refreshLoad(server.url);
    record('PG refresh, idle', 0, undefined, idle, '16 rotation chains');
    const flush = await underLoad(server.url, () => runJob(app, 'flush-expired-tokens'));
    record('PG flush-expired-tokens (batched)', expired, flush.seconds, flush.load, `batch ${app.config.maintenance.batchSize}`);

    await generate(expired, `${Date.now() - 2 * DAY} - i`, 'y');
    const naive = await underLoad(server.url, () => admin.query(`delete from refresh_tokens where expires_at < ${Date.now() - DAY}`));
    record('PG naive single DELETE', expired, naive.seconds, naive.load, 'baseline');

    await benchLogout(server.url, app, sessions, async (count) => {
      await admin.query(
        `insert into sessions (id, user_id, user_agent, ip, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
         select 'bench' || i, u.id, 'bench', '127.0.0.1', ${Date.now() - 60_000}, ${Date.now() - 60_000}, ${Date.now() + DAY}, ${Date.now() + 10 * DAY}
         from generate_series(1, ${count}) as i cross join (select id from users limit 1) u`,
      );
      await admin.query('analyze sessions');
    }, 'PG');
  } finally {
    await app.stop();
    await server.stop();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
    rmSync(env.DATA_DIR, { recursive: true, force: true });
  }
}

async function benchLogout(url: string, app: App, count: number, generate: (count: number) => Promise<void>, engine: string): Promise<void> {
  const cookies = await login(url);
  process.stderr.write(`generating ${count} live sessions...\n`);
  await generate(count);
  const access = cookies.get('access_token') ?? '';
  const started = performance.now();
  let refusedAt: number | undefined;
  const job = runJob(app, 'logout-all-users');
  while (refusedAt === undefined && performance.now() - started < 120_000) {
    const response = await fetch(`${url}/api/v1/me/`, { headers: { cookie: `access_token=${access}` } });
    if (response.status === 401) refusedAt = performance.now();
    else await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const counts = await job;
  const seconds = (performance.now() - started) / 1000;
  record(`${engine} logout-all-users`, counts.revoked ?? 0, seconds, undefined, `old access token refused after ${refusedAt === undefined ? 'never' : ((refusedAt - started) / 1000).toFixed(2) + ' s'}`);
}

async function benchSqlite(expired: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-maint-sqlite-'));
  const file = join(dir, 'curfew.db');
  const env = { DATABASE_URL: `sqlite:${file}`, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', COOKIE_SECURE: 'false', SCHEDULER: 'off', LOG_LEVEL: 'warn', SECRET_KEY: randomBytes(32).toString('hex'), DATA_DIR: dir };
  const server = await startServer(env);
  const app = await jobApp(env);
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  try {
    await login(server.url);
    const generate = (count: number, expiresAt: string, prefix: string) =>
      db.exec(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count})
         insert into refresh_tokens (token_hash, session_id, user_id, created_at, expires_at)
         select '${prefix}' || i, s.id, s.user_id, 0, ${expiresAt} from n, (select id, user_id from sessions order by id limit 1) s`,
      );
    process.stderr.write(`generating ${expired} expired + ${expired / 10} live refresh tokens (SQLite)...\n`);
    generate(expired, `${Date.now() - 2 * DAY} - i`, 'x');
    generate(expired / 10, `${Date.now() + DAY} + i`, 'l');
    const idle = await refreshLoad(server.url);
    record('SQLite refresh, idle', 0, undefined, idle, '16 rotation chains');
    const flush = await underLoad(server.url, () => runJob(app, 'flush-expired-tokens'));
    record('SQLite flush-expired-tokens (batched)', expired, flush.seconds, flush.load, `batch ${app.config.maintenance.batchSize}`);
    generate(expired, `${Date.now() - 2 * DAY} - i`, 'y');
    const naive = await underLoad(server.url, async () => db.exec(`delete from refresh_tokens where expires_at < ${Date.now() - DAY}`));
    record('SQLite naive single DELETE', expired, naive.seconds, naive.load, 'baseline');
  } finally {
    db.close();
    await app.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function main(args: string[]): Promise<void> {
  const pgExpired = flag(args, '--pg-expired', 10_000_000);
  const sqliteExpired = flag(args, '--sqlite-expired', 1_000_000);
  const sessions = flag(args, '--sessions', 1_000_000);
  if (!args.includes('--skip-sqlite')) await benchSqlite(sqliteExpired);
  if (!args.includes('--skip-pg')) await benchPostgres(pgExpired, sessions);
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  process.stdout.write(`\n${rows.map((r) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`).join('\n')}\n`);
}
