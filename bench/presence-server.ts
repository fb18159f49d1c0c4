// The server under test for bench/presence.ts, in its own process: the whole
// app from the environment plus BENCH_USERS active users `u<i>@bench.test`
// (password `bench password`). Prints `READY <url>` on stdout; stops on SIGTERM.
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const app = await createApp(loadConfig());
await app.start();
const { users, passwords } = app.services;
const hash = await passwords.hash('bench password');
const count = Number(process.env.BENCH_USERS ?? 2);
for (let i = 0; i < count; i += 1) {
  const now = Date.now();
  await users.insert({ email: `u${i}@bench.test`, passwordHash: hash, role: 'user', profile: '{}', activatedAt: now, now });
}
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
process.stdout.write(`READY ${app.url ?? ''}\n`);
