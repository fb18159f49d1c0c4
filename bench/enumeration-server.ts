// The server for bench/enumeration.ts, run in its own process: the whole app
// from the environment plus an active and a never-activated account.
// Prints `READY <url>` on stdout; stops on SIGTERM.
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const app = await createApp(loadConfig());
await app.start();
const { users, passwords } = app.services;
const now = Date.now();
const passwordHash = await passwords.hash('violet harbour lantern 2031');
await users.insert({ email: 'active@example.com', passwordHash, role: 'user', profile: '{}', activatedAt: now, now });
await users.insert({ email: 'pending@example.com', passwordHash, role: 'user', profile: '{}', activatedAt: null, now });
process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
process.stdout.write(`READY ${app.url ?? ''}\n`);
