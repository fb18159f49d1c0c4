// `npm run bench -- verify`: the three ways other services verify curfew
// tokens, in one run, beside their goals and ceilings:
//   (a) curfew.auth.verify over NATS vs a bare NATS responder in another
//       process (the ceiling), alternating rounds: saturation (K requests in
//       flight, closed loop), then the curve: p50/p99 at fixed offered rates
//       (open loop, BENCH_RATES), the load generator of bench/nats-load.ts;
//       see bench/verify-nats.ts (and its BENCH_PROBE, BENCH_PIN, BENCH_PUMP)
//   (b) POST /api/v1/introspect/ (RFC 7662, HTTP Basic client)
//   (c) POST /api/v1/verify/; both beside a bare Fastify JSON route (the ceiling)
//   (d) the in-process verifier (curfew/verify) vs bare jose.jwtVerify with the same key (the ceiling), alternating rounds
//   (e) revocation event: commit -> subscriber (and with the transaction), p50/p99 over BENCH_REVOCATIONS revocations
// `npm run bench -- verify nats events` runs only those phases (nats, http, inproc, events).
// Loopback and the machine's NATS only; temp data removed at the end.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { importJWK, jwtVerify, type JWK } from 'jose';
import { connect } from 'nats';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createVerifier } from '../src/verify/index.js';
import { startChild } from './child.js';
import { median, processCpuMs } from './compare.js';
import { natsPhase, printCurve, type CurvePoint, type Row } from './verify-nats.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
/** Offered rates (requests/s) of the open-loop curve; each round sends rate × BENCH_CURVE_SECONDS requests. */
const RATES = (process.env.BENCH_RATES ?? '5000,10000,15000,20000,25000,30000').split(',').map(Number).filter((rate) => rate > 0);
const CURVE_SECONDS = Number(process.env.BENCH_CURVE_SECONDS ?? 2);
/** The curfew child's LOG_LEVEL: unset (the app's default, info) unless BENCH_LOG_LEVEL says otherwise. */
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Keeps `inFlight` calls of `call` running for `seconds`; returns rate and latency percentiles (ms). */
async function closedLoop(call: () => Promise<unknown>, seconds: number, inFlight: number): Promise<{ rps: number; p50: number; p99: number; count: number }> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await call();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length };
}

function ratio(ceiling: Row | undefined, ours: { rps: number }): string {
  return ceiling ? `${(ceiling.rps / ours.rps).toFixed(2)}x the ceiling's time` : '';
}

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU µs per request of the serving process (median over rounds). */
  readonly cpuUs: number;
}

/** CPU ms used so far by the process `pid`, or by this one when `pid` is undefined. */
function cpuMs(pid: number | undefined): number {
  if (pid !== undefined) return processCpuMs(pid);
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * ROUNDS rounds of SECONDS/2 per call, order alternating per round; medians
 * of each figure. `cpuPids[i]` names the process whose CPU time call i costs
 * (undefined: this process): CPU per request does not depend on how much of
 * the shared machine the round happened to get, so the ratios use it.
 */
async function alternateRounds(calls: ReadonlyArray<() => Promise<unknown>>, inFlight: number, cpuPids: ReadonlyArray<number | undefined> = []): Promise<Figures[]> {
  const samples = calls.map(() => ({ rps: [] as number[], p50: [] as number[], p99: [] as number[], cpu: [] as number[] }));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let k = 0; k < calls.length; k += 1) {
      const index = (round + k) % calls.length;
      const cpuBefore = cpuMs(cpuPids[index]);
      const figures = await closedLoop(calls[index] as () => Promise<unknown>, SECONDS / 2, inFlight);
      const sample = samples[index] as (typeof samples)[number];
      sample.cpu.push(((cpuMs(cpuPids[index]) - cpuBefore) * 1000) / Math.max(1, figures.count));
      sample.rps.push(figures.rps);
      sample.p50.push(figures.p50);
      sample.p99.push(figures.p99);
    }
  }
  return samples.map((sample) => ({ rps: median(sample.rps), p50: median(sample.p50), p99: median(sample.p99), cpuUs: median(sample.cpu) }));
}

async function http(url: string, body: string, headers: Record<string, string>): Promise<{ rps: number; p50: number; p99: number; failures: number }> {
  const result = await autocannon({ url, method: 'POST', body, headers, connections: 32, duration: SECONDS, timeout: 10 });
  return { rps: result.requests.total / SECONDS, p50: result.latency.p50, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts };
}

/** `npm run bench -- verify [nats] [http] [inproc] [events]`: the phases to run (default all). */
const PHASES = ['nats', 'http', 'inproc', 'events'] as const;
type Phase = (typeof PHASES)[number];

export default async function bench(args: string[] = []): Promise<void> {
  const unknown = args.filter((arg) => !(PHASES as readonly string[]).includes(arg));
  if (unknown.length > 0) throw new Error(`unknown phase ${unknown.join(', ')}; phases: ${PHASES.join(', ')}`);
  const selected = new Set<Phase>(args.length === 0 ? PHASES : (args as Phase[]));
  const dir = mkdtempSync(join(tmpdir(), 'curfew-bench-verify-'));
  const prefix = `curfewbench.${randomBytes(4).toString('hex')}`;
  const env = {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${join(dir, 'curfew.db')}`,
    SECRET_KEY: randomBytes(32).toString('hex'),
    COOKIE_SECURE: 'false',
    SCHEDULER: 'off',
    ...(LOG_LEVEL === undefined ? {} : { LOG_LEVEL }),
    BUS_URL: NATS_URL,
    BUS_SUBJECT_PREFIX: prefix,
  };
  const server = await startChild('bench/verify-server.ts', 'curfew', env);
  const nc = await connect({ servers: NATS_URL });
  const rows: Row[] = [];
  const curve: CurvePoint[] = [];
  const loadBefore = loadavg()[0] as number;
  try {
    const { token, basic, issuer, audience } = JSON.parse(readFileSync(join(dir, 'bench-verify.json'), 'utf8')) as { token: string; basic: string; issuer: string; audience: string };
    const encoder = new TextEncoder();
    const request = encoder.encode(JSON.stringify({ token }));
    const subject = `${prefix}.auth.verify`;
    // The server connects in the background: wait for the first answer.
    for (let i = 0; ; i += 1) {
      try {
        await nc.request(subject, request, { timeout: 1000 });
        break;
      } catch (error) {
        if (i > 30) throw error;
      }
    }
    if (selected.has('nats')) {
      process.stderr.write('(a) NATS verify vs a bare NATS responder and no responder\n');
      const sample = await nc.request(subject, request, { timeout: 5000 });
      const nats = await natsPhase({ nc, subject, prefix, request, answer: sample.data, server, env, rounds: ROUNDS, seconds: SECONDS, inFlight: IN_FLIGHT, rates: RATES, curveSeconds: CURVE_SECONDS });
      rows.push(...nats.rows);
      curve.push(...nats.curve);
    }

    if (selected.has('http')) {
      let httpCeiling: Row | undefined;
      process.stderr.write('HTTP ceiling\n');
      const bareHttp = await startChild('bench/auth-server.ts', 'bare');
      try {
        const result = await autocannon({ url: `${bareHttp.url}/bare`, connections: 32, duration: SECONDS, timeout: 10 });
        httpCeiling = { name: '    ceiling: bare Fastify JSON route (GET), 32 connections', rps: result.requests.total / SECONDS, p50: result.latency.p50, p99: result.latency.p99, goal: 'ceiling for (b), (c)' };
      } finally {
        await bareHttp.stop();
      }

      process.stderr.write('(b) introspect\n');
      const intro = await http(`${server.url}/api/v1/introspect/`, new URLSearchParams({ token }).toString(), { authorization: basic as string, 'content-type': 'application/x-www-form-urlencoded' });
      rows.push({ name: '(b) POST /api/v1/introspect/, 32 connections', ...intro, goal: `${ratio(httpCeiling, intro)}${intro.failures > 0 ? `; ${intro.failures} failed` : ''}` });

      process.stderr.write('(c) verify route\n');
      const route = await http(`${server.url}/api/v1/verify/`, JSON.stringify({ token }), { 'content-type': 'application/json' });
      rows.push({ name: '(c) POST /api/v1/verify/, 32 connections', ...route, goal: `${ratio(httpCeiling, route)}${route.failures > 0 ? `; ${route.failures} failed` : ''}` });
      if (httpCeiling) rows.push(httpCeiling);
    }

    if (selected.has('inproc')) {
      process.stderr.write('(d) in-process verifier vs bare jose.jwtVerify\n');
      const verifier = createVerifier({ issuer: issuer as string, audience: audience as string, jwksUrl: `${server.url}/.well-known/jwks.json` });
      if (!(await verifier.verify(token as string))) throw new Error('the verifier refused the bench token');
      const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      const key = await importJWK(jwks.keys[0] as JWK, 'EdDSA');
      const bare = () => jwtVerify(token as string, key, { issuer, audience, algorithms: ['EdDSA'] });
      const [lib, ceiling] = (await alternateRounds([() => verifier.verify(token), bare], 1)) as [Figures, Figures];
      await verifier.close();
      rows.push({
        name: '(d) in-process verifier (curfew/verify)',
        ...lib,
        goal: `CPU ${lib.cpuUs.toFixed(0)} µs/verify = ${(lib.cpuUs / ceiling.cpuUs).toFixed(2)}x the ceiling's (goal <= 1.2x); by req/s ${(ceiling.rps / lib.rps).toFixed(2)}x`,
      });
      rows.push({ name: '    ceiling: bare jose.jwtVerify, same key', ...ceiling, goal: `ceiling: CPU ${ceiling.cpuUs.toFixed(0)} µs/verify` });
    }
  } finally {
    await nc.close();
    await server.stop();
  }

  if (selected.has('events')) {
    process.stderr.write('(e) revocation events\n');
    rows.push(await revocationLatency(dir, prefix));
  }
  rmSync(dir, { recursive: true, force: true });

  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(
    `\nverify bench: ${SECONDS} s per phase, ${ROUNDS} alternating rounds for (a) and (d); curfew LOG_LEVEL ${LOG_LEVEL ?? 'default (info)'}; ` +
      `load average ${loadBefore.toFixed(1)} at the start, ${(loadavg()[0] as number).toFixed(1)} at the end (2 cores shared with other engineers)\n\n`,
  );
  process.stdout.write(`${'path'.padEnd(width)}  ${'req/s'.padStart(9)}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}  goal / ratio\n`);
  for (const r of rows) {
    const rps = Number.isFinite(r.rps) ? Math.round(r.rps).toLocaleString('en-US') : '-';
    process.stdout.write(`${r.name.padEnd(width)}  ${rps.padStart(9)}  ${r.p50.toFixed(3).padStart(7)}  ${r.p99.toFixed(3).padStart(7)}  ${r.goal}\n`);
  }
  printCurve(curve, ROUNDS, CURVE_SECONDS);
}

/**
 * Commit -> subscriber latency: an in-process curfew on its own SQLite file
 * revokes sessions one by one while a separate NATS subscriber waits for each
 * event. The row's p50/p99 run from the revoke call's return, which follows
 * its commit with nothing but the (synchronous) hand-over to the publisher in
 * between, to the event's arrival (0 when the event arrived first): "after
 * the commit", within microseconds. The goal column adds the revoke call
 * itself (the transaction) and the sum, call start -> subscriber (what the
 * bench reported before 2026-11-30 evening, an upper bound).
 */
async function revocationLatency(parent: string, prefix: string): Promise<Row> {
  const dir = mkdtempSync(join(parent, 'events-'));
  const config = loadConfig({
    env: { NODE_ENV: 'test', DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'events.db')}`, SCHEDULER: 'off', BUS_URL: NATS_URL, BUS_SUBJECT_PREFIX: `${prefix}e`, ...(LOG_LEVEL === undefined ? {} : { LOG_LEVEL }) },
    secretKey: randomBytes(32).toString('hex'),
  });
  const app = await createApp(config);
  await app.start({ listen: false, background: true });
  const nc = await connect({ servers: NATS_URL });
  const waiting = new Map<string, (at: number) => void>();
  nc.subscribe(`${prefix}e.events.session.revoked`, {
    callback: (_error, msg) => {
      const at = performance.now();
      const { session_id: id } = JSON.parse(new TextDecoder().decode(msg.data)) as { session_id: string };
      waiting.get(id)?.(at);
    },
  });
  await nc.flush();
  try {
    while (app.services.bus.state() !== 'connected') await new Promise((resolve) => setTimeout(resolve, 20));
    const now = Date.now();
    const user = await app.services.users.insert({ email: 'ev@example.com', passwordHash: 'x', role: 'user', profile: '{}', activatedAt: now, now });
    const latencies: number[] = [];
    const calls: number[] = [];
    const afterReturn: number[] = [];
    const started = performance.now();
    for (let i = 0; i < REVOCATIONS; i += 1) {
      const session = await app.services.auth.sessions.create({ userId: Number(user?.id), userAgent: 'bench', ip: '127.0.0.1' });
      const arrived = new Promise<number>((resolve) => waiting.set(session.id, resolve));
      const t0 = performance.now();
      await app.services.auth.sessions.revoke(session.id, 'logout');
      const t1 = performance.now();
      const at = await arrived;
      latencies.push(at - t0);
      calls.push(t1 - t0);
      afterReturn.push(Math.max(0, at - t1));
      waiting.delete(session.id);
    }
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    calls.sort((a, b) => a - b);
    afterReturn.sort((a, b) => a - b);
    const context = `revoke call (the transaction) p50 ${percentile(calls, 50).toFixed(3)} / p99 ${percentile(calls, 99).toFixed(3)} ms; call start -> subscriber p50 ${percentile(latencies, 50).toFixed(3)} / p99 ${percentile(latencies, 99).toFixed(3)} ms`;
    return {
      name: `(e) revocation event, commit -> subscriber (${REVOCATIONS})`,
      rps: REVOCATIONS / elapsed,
      p50: percentile(afterReturn, 50),
      p99: percentile(afterReturn, 99),
      goal: `goal p99 <= 100 ms after the commit: ${percentile(afterReturn, 99) <= 100 ? 'met' : 'NOT met'}; ${context}`,
    };
  } finally {
    await nc.close();
    await app.stop();
  }
}
