/**
 * Child process for `npm run bench -- triggers`: starts one server on
 * 127.0.0.1:0 and prints `READY <url>` on stdout. Mode `bare` is a bare
 * Fastify app (the ceiling); mode `curfew` is the whole curfew app (its
 * configuration from the environment the parent passes) plus two bench jobs:
 * - `bench-probe` (never due on its own): returns `start_us`, the epoch
 *   microsecond at which its function started;
 * - `bench-tick` (every second, enabled by BENCH_TICK=1): returns
 *   `late_us`, how long after its slot its function started.
 */
import Fastify from 'fastify';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { defineJob } from '../src/jobs/define.js';

const mode = process.argv[2];

/** Wall-clock epoch microseconds, comparable across processes on this machine. */
function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

const benchJobs = [
  defineJob({
    name: 'bench-probe',
    description: 'BENCH ONLY: reports when its function started',
    schedule: '0 0 1 1 *',
    run: async () => ({ start_us: nowUs() }),
  }),
  defineJob({
    name: 'bench-tick',
    description: 'BENCH ONLY: reports how late after its slot it started',
    schedule: '* * * * * *',
    enabled: process.env.BENCH_TICK === '1',
    run: async ({ scheduledFor }) => ({ late_us: scheduledFor === null ? -1 : nowUs() - scheduledFor * 1000 }),
  }),
];

async function main(): Promise<void> {
  if (mode === 'bare') {
    const app = Fastify({ logger: false });
    // Same shape of answer as a refused trigger: a small JSON error body.
    app.route({
      method: ['GET', 'POST'],
      url: '/cron/run',
      handler: async (_request, reply) => reply.status(401).send({ error: { code: 'CRON_UNAUTHORIZED', message: 'The bearer token is not valid.' } }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
    process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
    return;
  }
  const config = loadConfig({ env: { ...process.env, HOST: '127.0.0.1', PORT: '0' } });
  const app = await createApp(config, { extraJobs: benchJobs });
  await app.start({ background: config.scheduler.enabled });
  process.stdout.write(`READY ${app.url}\n`);
  process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
