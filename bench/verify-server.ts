// The curfew under test for bench/verify.ts, in its own process: the whole
// app from the environment (BUS_URL set), one active user with a session and
// one service client. Writes their credentials to DATA_DIR/bench-verify.json,
// then prints `READY <url>`; stops on SIGTERM.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const config = loadConfig();
const app = await createApp(config);
await app.start();
const { users, passwords, auth, clients } = app.services;
const now = Date.now();
await users.insert({ email: 'bench@example.com', passwordHash: await passwords.hash('bench password 0123'), role: 'user', profile: '{}', activatedAt: now, now });
const { tokens } = await auth.service.login('bench@example.com', 'bench password 0123', { ip: '127.0.0.1', userAgent: 'bench' });
const { secret } = await clients.create('bench');
writeFileSync(
  join(config.dataDir, 'bench-verify.json'),
  JSON.stringify({ token: tokens.accessToken, basic: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`, issuer: config.auth.issuer, audience: config.auth.audience }),
);
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
process.stdout.write(`READY ${app.url ?? ''}\n`);
