// A server under test for bench/auth.ts, run in its own process:
//   bare    a bare Fastify JSON route (the ceiling)
//   curfew  the whole app from the environment, plus one active bench user
// Prints `READY <url>` on stdout; stops on SIGTERM.
import Fastify from 'fastify';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const mode = process.argv[2];

if (mode === 'bare') {
  const app = Fastify({ logger: false });
  app.get(
    '/bare',
    { schema: { response: { 200: { type: 'object', properties: { id: { type: 'integer' }, email: { type: 'string' } } } } } },
    async () => ({ id: 1, email: 'bench@example.com' }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
} else if (mode === 'curfew') {
  const config = loadConfig();
  const app = await createApp(config);
  await app.start();
  const { users, passwords } = app.services;
  const now = Date.now();
  await users.insert({
    email: process.env.BENCH_EMAIL ?? 'bench@example.com',
    passwordHash: await passwords.hash(process.env.BENCH_PASSWORD ?? 'bench password'),
    role: 'user',
    profile: '{}',
    activatedAt: now,
    now,
  });
  process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
  process.stdout.write(`READY ${app.url ?? ''}\n`);
} else {
  process.stderr.write('usage: auth-server.ts bare|curfew\n');
  process.exit(64);
}
