// `npm run bench -- sequences [--count N] [--skip-sqlite] [--skip-pg]`
// N enrollments (default 100,000) due at once, drained by `sequence-tick` runs back to back (through the jobs
// runner, SEQUENCE_TICK_LIMIT sends each,
// in a curfew server process: bench/sequences-server.ts) into a local smtp-server sink in its own
// process (bench/sequences-sink-server.ts), on PostgreSQL and on SQLite. Reported: mails/s against the
// ceiling measured in the same run (nodemailer's pooled transport, same connection count, sending the
// same rendered messages straight to the same sink), duplicates counted at the sink (per recipient and
// subject), and GET /api/v1/me/ p99 during the drain against idle.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { startChild } from './child.js';
import { postgresCpuMs, processCpuMs } from './compare.js';

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench password 0123';
const CONNECTIONS = Number(process.env.SEQUENCE_SMTP_CONNECTIONS ?? 5);
/** The ceiling's pool recycles connections like curfew's (SEQUENCE_SMTP_MAX_MESSAGES, same default), so the ratio compares senders, not pool settings. */
const MAX_MESSAGES = Number(process.env.SEQUENCE_SMTP_MAX_MESSAGES ?? 1000);
const ME_RATE = Number(process.env.BENCH_ME_RATE ?? 100);

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  drain(): Promise<{ ms: number; counts: Record<string, number>; loop: { p99: number; max: number; busy: number } }>;
  stop(): Promise<void>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  // BENCH_PROFILE_DIR: the server profiles its main thread for the drain only (bench/sequences-server.ts).
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sequences-server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    for (const resolve of waiting.splice(0)) resolve(line);
  });
  const nextLine = (prefix: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${prefix} line within ${timeoutMs} ms`)), timeoutMs);
      const listen = (line: string) => {
        if (line.startsWith(prefix)) {
          clearTimeout(timer);
          resolve(line.slice(prefix.length).trim());
        } else waiting.push(listen);
      };
      waiting.push(listen);
      child.once('exit', (code) => reject(new Error(`bench server exited with ${String(code)}`)));
    });
  const url = await nextLine('READY ', 600_000);
  return {
    url,
    child,
    async drain() {
      const line = nextLine('DRAINED ', 3_600_000);
      child.stdin?.write('drain\n');
      const [ms = '0', json = '{}', loop = '{}'] = (await line).split(' ');
      return { ms: Number(ms), counts: JSON.parse(json) as Record<string, number>, loop: JSON.parse(loop) as { p99: number; max: number; busy: number } };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** CPU ms of one thread (Linux: the main thread's id is the process id), or NaN. */
function threadCpuMs(pid: number | undefined, tid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${String(pid)}/task/${String(tid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function accessCookie(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`login answered ${response.status}`);
  const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith('access_token='));
  return (line ?? '').split(';')[0] ?? '';
}

/** /me latency: for `seconds`, or until `until` settles. */
async function meLoad(url: string, cookie: string, seconds: number, until?: Promise<unknown>): Promise<{ p99: number; p50: number; rps: number }> {
  // A steady 100 requests/s (users of the app while it sends), not a saturating flood.
  const instance = autocannon({ url: `${url}/api/v1/me/`, connections: 4, overallRate: ME_RATE, duration: until ? 3600 : seconds, headers: { cookie } });
  if (until) {
    const stop = () => (instance as unknown as { stop(): void }).stop();
    until.then(stop, stop);
  }
  const result = await instance;
  return { p99: result.latency.p99, p50: result.latency.p50, rps: result.requests.average };
}

async function sinkStats(statsUrl: string, reset = false): Promise<{ total: number; duplicates: number }> {
  const response = await fetch(`${statsUrl}/${reset ? 'reset' : 'stats'}`, { method: reset ? 'POST' : 'GET' });
  return (await response.json()) as { total: number; duplicates: number };
}

/** The ceiling: the same rendered messages straight to the sink through nodemailer's pooled transport. */
async function ceiling(smtpUrl: string, count: number): Promise<{ rate: number; cpuMsPer1000: number }> {
  const cpu = process.cpuUsage();
  const transport = nodemailer.createTransport({ pool: true, url: smtpUrl, maxConnections: CONNECTIONS, maxMessages: MAX_MESSAGES, maxRequeues: 0 });
  const started = performance.now();
  let next = 1;
  const worker = async () => {
    while (next <= count) {
      const n = next++;
      const link = `http://127.0.0.1/api/v1/unsubscribe/${n}.${randomBytes(16).toString('base64url').slice(0, 22)}/`;
      await transport.sendMail({
        from: 'curfew <no-reply@localhost>',
        to: `r${n}@example.com`,
        subject: `Welcome, First${n}`,
        text: `Hello First${n} Last,\n\nthanks for joining http://127.0.0.1.\n\nUnsubscribe: ${link}\n`,
        html: `<p>Hello First${n} Last,</p><p>thanks for joining <a href="http://127.0.0.1">us</a>.</p><p><a href="${link}">Unsubscribe</a></p>`,
        messageId: `<${n}@seq.127.0.0.1>`,
        headers: { 'List-Unsubscribe': `<${link}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
    }
  };
  await Promise.all(Array.from({ length: 400 }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  transport.close();
  return { rate: count / seconds, cpuMsPer1000: ((used.user + used.system) / 1000 / count) * 1000 };
}

interface Row {
  engine: string;
  mails: number;
  drainS: number;
  rate: number;
  ceiling: number;
  /** CPU ms per 1000 mails: the curfew server during the drain, and the ceiling's process (load-independent). */
  cpuPer1000: number;
  ceilingCpuPer1000: number;
  duplicates: number;
  idleP99: number;
  drainP99: number;
  /** The curfew server's event-loop delay during the drain (ms): what a request waits behind. */
  loopP99: number;
  loopMax: number;
  /** Share of the drain the main thread's event loop was busy. */
  loopBusy: number;
  counts: Record<string, number>;
}

async function runEngine(engine: 'postgres' | 'sqlite', count: number, sink: { smtp: string; stats: string; pid: number | undefined }): Promise<Row> {
  let cleanup: () => Promise<void>;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    SECRET_KEY: 'bench-sequences-secret-key-0123456789abcdef0123',
    COOKIE_SECURE: 'false',
    SCHEDULER: 'off',
    LOG_LEVEL: 'warn',
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_TIME_COST: '1',
    SMTP_URL: sink.smtp,
    BENCH_COUNT: String(count),
    BENCH_EMAIL: EMAIL,
    BENCH_PASSWORD: PASSWORD,
  };
  if (engine === 'postgres') {
    const schema = `bench_seq_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    env.DATABASE_URL = PG_URL;
    env.DATABASE_SCHEMA = schema;
    cleanup = async () => {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'curfew-bench-seq-'));
    env.DATABASE_URL = `sqlite:${join(dir, 'curfew.db')}`;
    env.DATA_DIR = dir;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  process.stderr.write(`[${engine}] seeding ${count} enrollments...\n`);
  const server = await startServer(env);
  try {
    // Warm the sink (and this process's nodemailer) first, so neither side measures a cold JIT.
    await ceiling(sink.smtp, Math.min(2000, count));
    const cookie = await accessCookie(server.url);
    const idle = await meLoad(server.url, cookie, 5);
    await sinkStats(sink.stats, true);
    process.stderr.write(`[${engine}] draining...\n`);
    const cpuBefore = processCpuMs(server.child.pid);
    const mainBefore = threadCpuMs(server.child.pid, server.child.pid);
    const sinkBefore = processCpuMs(sink.pid);
    const pgBefore = engine === 'postgres' ? postgresCpuMs() : 0;
    const drained = server.drain();
    const during = await meLoad(server.url, cookie, 0, drained);
    const { ms, counts, loop } = await drained;
    const serverCpu = processCpuMs(server.child.pid) - cpuBefore;
    const mainCpu = threadCpuMs(server.child.pid, server.child.pid) - mainBefore;
    const sinkCpu = processCpuMs(sink.pid) - sinkBefore;
    const pgCpu = engine === 'postgres' ? postgresCpuMs() - pgBefore : 0;
    const stats = await sinkStats(sink.stats);
    await sinkStats(sink.stats, true);
    process.stderr.write(`[${engine}] ceiling...\n`);
    const sinkCeilingBefore = processCpuMs(sink.pid);
    const top = await ceiling(sink.smtp, count);
    const sinkCeilingCpu = processCpuMs(sink.pid) - sinkCeilingBefore;
    const per1000 = (cpu: number, n: number) => (cpu / Math.max(1, n)) * 1000;
    process.stderr.write(
      `[${engine}] CPU ms/1000 mails: curfew main thread ${per1000(mainCpu, stats.total).toFixed(0)}, other threads ${per1000(serverCpu - mainCpu, stats.total).toFixed(0)}, ` +
        `sink ${per1000(sinkCpu, stats.total).toFixed(0)}, postgres (all, machine-wide) ${per1000(pgCpu, stats.total).toFixed(0)}; ceiling: sender ${top.cpuMsPer1000.toFixed(0)}, sink ${per1000(sinkCeilingCpu, count).toFixed(0)}\n`,
    );
    return { engine, mails: stats.total, drainS: ms / 1000, rate: stats.total / (ms / 1000), ceiling: top.rate, cpuPer1000: (serverCpu / Math.max(1, stats.total)) * 1000, ceilingCpuPer1000: top.cpuMsPer1000, duplicates: stats.duplicates, idleP99: idle.p99, drainP99: during.p99, loopP99: loop.p99, loopMax: loop.max, loopBusy: loop.busy, counts };
  } finally {
    await server.stop();
    await cleanup();
  }
}

export default async function main(args: string[]): Promise<void> {
  const count = flag(args, '--count', 100_000);
  const sinkChild = await startChild('bench/sequences-sink-server.ts', 'sink');
  const [smtp = '', stats = ''] = sinkChild.url.split(' ');
  const rows: Row[] = [];
  try {
    if (!args.includes('--skip-pg')) rows.push(await runEngine('postgres', count, { smtp, stats, pid: sinkChild.pid }));
    if (!args.includes('--skip-sqlite')) rows.push(await runEngine('sqlite', count, { smtp, stats, pid: sinkChild.pid }));
  } finally {
    await sinkChild.stop();
  }
  const f = (n: number, digits = 0) => n.toFixed(digits);
  process.stdout.write(`\nsequence drain, ${count} enrollments due at once, ${CONNECTIONS} SMTP connections of up to ${MAX_MESSAGES} messages each (shared 2-core machine; /me at a steady ${ME_RATE} requests/s)\n\n`);
  process.stdout.write('| engine | mails at sink | drain s | mails/s | ceiling mails/s | ratio | CPU ms/1000 mails (curfew incl. DB client, /me) | ceiling CPU ms/1000 | duplicates | /me p99 idle ms | /me p99 drain ms | p99 ratio | event-loop delay p99 / max ms | main-thread loop busy |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.engine} | ${r.mails} | ${f(r.drainS, 1)} | ${f(r.rate)} | ${f(r.ceiling)} | ${f(r.rate / r.ceiling, 2)}× | ${f(r.cpuPer1000)} | ${f(r.ceilingCpuPer1000)} | ${r.duplicates} | ${r.idleP99} | ${r.drainP99} | ${f(r.drainP99 / Math.max(1, r.idleP99), 2)}× | ${f(r.loopP99, 1)} / ${f(r.loopMax)} | ${f(r.loopBusy * 100)}% |\n`);
  }
  for (const r of rows) process.stdout.write(`${r.engine} tick counts: ${JSON.stringify(r.counts)}\n`);
}
