// `npm run bench -- presence [clients]`: presence at scale, loopback only.
//  1. fan-out: N WebSocket clients (default BENCH_CLIENTS or 10,000) on one
//     curfew (SQLite, child process): the server's RSS with all connected, and
//     the time from one user's socket closing until the offline diff reached
//     every client (offline grace 0, so this is one tick plus the push).
//  2. sweep: `check-inactive-users` over 1,000,000 online users (one connection
//     each) of whom 10,000 are inactive, on PostgreSQL (generate_series rows).
// Bounded (timeouts on every wait); temp directory and schema removed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { WebSocket } from 'ws';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PER_USER = 100;

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref())]);
}

async function login(url: string, email: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'bench password' }),
  });
  if (response.status !== 200) throw new Error(`login ${email}: ${response.status}`);
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith('access_token='));
  if (!cookie) throw new Error('no access cookie');
  return cookie.split(';')[0] as string;
}

function connect(url: string, cookie: string, onMessage: (text: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers: { cookie }, perMessageDeflate: false });
    socket.once('error', reject);
    socket.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"hello"')) resolve(socket);
      else onMessage(text);
    });
  });
}

async function fanOut(clients: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'curfew-bench-presence-'));
  const viewers = Math.ceil(clients / PER_USER);
  const child: ChildProcess = spawn('bash', ['-c', 'ulimit -n 20000 2>/dev/null; exec node --import tsx bench/presence-server.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: `sqlite:${join(dir, 'curfew.db')}`,
      DATA_DIR: dir,
      PORT: '0',
      LOG_LEVEL: 'warn',
      SCHEDULER: 'off',
      COOKIE_SECURE: 'false',
      SECRET_KEY: randomBytes(32).toString('hex'),
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_TIME_COST: '1',
      ACCESS_TOKEN_TTL: '3600',
      PRESENCE_OFFLINE_GRACE: '0',
      BENCH_USERS: String(viewers + 1),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sockets: WebSocket[] = [];
  try {
    const url = await withTimeout(
      new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`server exited with ${String(code)}`)));
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
          if (line.startsWith('READY ')) resolve(line.slice(6).trim());
        });
      }),
      60_000,
      'server start',
    );
    const pid = child.pid as number;
    const baseline = rssMiB(pid);
    const cookies: string[] = [];
    for (let i = 0; i < viewers; i += 1) cookies.push(await login(url, `u${i}@bench.test`));
    const subjectCookie = await login(url, `u${viewers}@bench.test`);

    let waitingFor: string | undefined;
    let received = 0;
    let allReceived: () => void = () => undefined;
    const onMessage = (text: string) => {
      if (waitingFor !== undefined && text.includes(waitingFor)) {
        received += 1;
        if (received === clients) allReceived();
      }
    };
    const started = Date.now();
    let reached = 0;
    let failure = '';
    for (let i = 0; i < clients; i += 200) {
      const batch = [];
      for (let j = i; j < Math.min(clients, i + 200); j += 1) batch.push(connect(url, cookies[Math.floor(j / PER_USER)] as string, onMessage));
      const results = await Promise.allSettled(batch.map((p) => withTimeout(p, 30_000, 'connect')));
      for (const result of results) {
        if (result.status === 'fulfilled') sockets.push(result.value);
        else failure ||= String(result.reason);
      }
      reached = sockets.length;
      if (failure) break;
    }
    const connectSeconds = (Date.now() - started) / 1000;
    if (failure) process.stdout.write(`stopped at ${reached} clients: ${failure}\n`);
    const target = reached;

    const subject = await connect(url, subjectCookie, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rss = rssMiB(pid);

    const subjectId = viewers + 1;
    waitingFor = `"offline":[${subjectId}]`;
    received = 0;
    const done = new Promise<void>((resolve) => {
      allReceived = resolve;
      if (target === 0) resolve();
    });
    const closedAt = process.hrtime.bigint();
    subject.close();
    let diffMs = Number.NaN;
    const everyone = clients;
    try {
      await withTimeout(
        done.then(() => undefined),
        30_000,
        'offline diff',
      );
      diffMs = Number(process.hrtime.bigint() - closedAt) / 1e6;
    } catch {
      process.stdout.write(`offline diff reached ${received} of ${everyone}\n`);
    }
    process.stdout.write(
      `fan-out: ${target} clients (${viewers} users × ${PER_USER} tabs) connected in ${connectSeconds.toFixed(1)} s; ` +
        `server RSS ${rss.toFixed(0)} MiB (idle ${baseline.toFixed(0)} MiB; target <= 1024); ` +
        `offline diff reached all ${received} clients ${diffMs.toFixed(0)} ms after the close (target <= 1000; tick 250 ms)\n`,
    );
  } finally {
    for (const socket of sockets) socket.terminate();
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sweep(): Promise<void> {
  const schema = `bench_presence_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const dir = mkdtempSync(join(tmpdir(), 'curfew-bench-sweep-'));
  const config = loadConfig({
    env: { NODE_ENV: 'test', DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, DATA_DIR: dir, SCHEDULER: 'off', LOG_LEVEL: 'warn', INACTIVITY_MINUTES: '30' },
    secretKey: randomBytes(32).toString('hex'),
  });
  const app = await createApp(config);
  try {
    await app.start({ listen: false, background: false });
    const now = Date.now();
    const old = now - 31 * 60_000;
    const fill = Date.now();
    await admin.query(`set search_path = ${schema}`);
    await admin.query(
      `insert into users (email, password_hash, role, profile, activated_at, created_at, updated_at)
       select 'u' || g || '@bench.test', 'x', 'user', '{}', 0, 0, 0 from generate_series(1, 1000000) g`,
    );
    await admin.query(
      `insert into user_presence (user_id, online, last_seen_at, active_connections, changed_at)
       select id, 1, case when id % 100 = 0 then $1::bigint else $2::bigint end, 1, 0 from users`,
      [old, now],
    );
    await admin.query(`insert into presence_connections (id, user_id, instance_id, opened_at) select 'c' || id, id, 'bench', 0 from users`);
    await admin.query(`insert into presence_instances (instance_id, heartbeat_at, started_at) values ('bench', $1, $1)`, [now]);
    await admin.query('vacuum analyze users, user_presence, presence_connections');
    const fillSeconds = (Date.now() - fill) / 1000;
    // As in a real deployment, the inactive users' rows were last written before
    // the latest checkpoint (so each first change writes a full-page image), and
    // no checkpoint of the fill's own 3,000,000 rows runs during the sweep.
    await admin.query('checkpoint');
    // The rows' instance is alive: its heartbeat is fresh when the sweep starts.
    await admin.query(`update presence_instances set heartbeat_at = $1`, [Date.now()]);
    const started = process.hrtime.bigint();
    const summary = await app.services.jobs.runJob('check-inactive-users', { dryRun: false, trigger: 'cli', caller: {} });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const left = await admin.query<{ n: string }>('select count(*) as n from user_presence where online = 1');
    process.stdout.write(
      `sweep: 1,000,000 online users, 10,000 inactive (rows made in ${fillSeconds.toFixed(0)} s): ` +
        `${summary.status} ${JSON.stringify(summary.counts)} in ${summary.durationMs} ms (wall ${wallMs.toFixed(0)} ms with the ledger; target <= 500); ` +
        `${left.rows[0]?.n} still online\n`,
    );
  } finally {
    await app.stop();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function run(args: string[]): Promise<void> {
  const clients = Number(args[0] ?? process.env.BENCH_CLIENTS ?? 10_000);
  const only = process.env.BENCH_ONLY;
  if (only !== 'sweep') await fanOut(clients);
  if (only !== 'fanout') await sweep();
}
