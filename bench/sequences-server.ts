// The curfew server for bench/sequences.ts, in its own process: the whole app
// from the environment, one bench user (for /api/v1/me/), a one-step sequence
// and BENCH_COUNT users enrolled in it, all due now (rows written with one
// INSERT ... SELECT each). Prints `READY <url>`; stops on SIGTERM. A `drain`
// line on stdin runs `sequence-tick` through the jobs runner until nothing is
// due and prints `DRAINED <ms> <counts json> <event-loop delay json, ms>`.
// With BENCH_PROFILE_DIR set, the main thread is CPU-profiled for exactly the
// drain (the inspector, 250 µs sampling) into <dir>/drain-<engine>-<time>.cpuprofile.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const count = Number(process.env.BENCH_COUNT ?? 100_000);
const app = await createApp(loadConfig());
await app.start();
const { users, passwords, sequences, storage } = app.services;
const now = Date.now();
await users.insert({
  email: process.env.BENCH_EMAIL ?? 'bench@example.com',
  passwordHash: await passwords.hash(process.env.BENCH_PASSWORD ?? 'bench password'),
  role: 'user',
  profile: '{}',
  activatedAt: now,
  now,
});
await sequences.create({
  key: 'bench',
  name: 'Bench',
  steps: [
    {
      delay: '0s',
      subject: 'Welcome, {{ first_name }}',
      text: 'Hello {{ first_name }} {{ last_name }},\n\nthanks for joining {{ app_url }}.\n\nUnsubscribe: {{ unsubscribe_url }}\n',
      html: '<p>Hello {{ first_name }} {{ last_name }},</p><p>thanks for joining <a href="{{ app_url }}">us</a>.</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
    },
  ],
});
// Raw SQL: bulk rows from a series (PostgreSQL) or a recursive CTE (SQLite).
const series =
  storage.engine === 'postgres'
    ? sql`select g as n from generate_series(1, ${count}) g`
    : sql`with recursive s(n) as (select 1 union all select n + 1 from s where n < ${count}) select n from s`;
await sql`insert into users (email, password_hash, role, profile, activated_at, created_at, updated_at)
  select 'r' || n || '@example.com', 'x', 'user', '{"type":"worker","first_name":"First' || n || '","last_name":"Last"}', ${now}, ${now}, ${now}
  from (${series}) as numbers`.execute(storage.db);
await sql`insert into sequence_enrollments (sequence_id, user_id, status, next_step, due_at, created_at, updated_at)
  select (select id from sequences where key = 'bench'), id, 'active', 1, ${now}, ${now}, ${now} from users where email like 'r%@example.com'`.execute(storage.db);
if (storage.engine === 'postgres') await sql`analyze`.execute(storage.db);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'drain') return;
  void (async () => {
    const profileDir = process.env.BENCH_PROFILE_DIR;
    const session = profileDir ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 250 });
      await session.post('Profiler.start');
    }
    const started = performance.now();
    // How long this process's event loop was blocked while draining (what /api/v1/me/ waits behind).
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const busyBefore = perf.eventLoopUtilization();
    const total: Record<string, number> = {};
    for (;;) {
      const run = await app.services.jobs.runJob('sequence-tick', { dryRun: false, trigger: 'cli', caller: { userAgent: 'bench' } });
      if (run.status !== 'ok') throw new Error(`sequence-tick ${run.status}: ${run.error ?? run.reason ?? ''}`);
      for (const [name, value] of Object.entries(run.counts)) total[name] = (total[name] ?? 0) + value;
      if ((run.counts.processed ?? 0) === 0) break;
    }
    delay.disable();
    const drainMs = Math.round(performance.now() - started);
    if (session && profileDir) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(join(profileDir, `drain-${storage.engine}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    }
    // Utilization: the share of the drain the main thread's event loop was busy (not waiting for I/O).
    const loop = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6, busy: perf.eventLoopUtilization(busyBefore).utilization };
    process.stdout.write(`DRAINED ${drainMs} ${JSON.stringify(total)} ${JSON.stringify(loop)}\n`);
  })();
});
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
process.stdout.write(`READY ${app.url ?? ''}\n`);
