// The servers under test for bench/verify.ts, each in its own process:
//   curfew     the whole app from the environment (BUS_URL set), one active
//              user with a session and one service client; their credentials
//              go to DATA_DIR/bench-verify.json
//   nats-echo  the NATS ceiling: a bare queue-group responder on
//              <BUS_SUBJECT_PREFIX>.echo answering a fixed reply of the same size
// Prints `READY <url>`; stops on SIGTERM. With BENCH_PROBE=1 either one also
// answers `<BUS_SUBJECT_PREFIX>.probe.<mode>` with its event-loop delay and GC
// pauses since the last ask (bench/nats-probe.ts), on a connection of its own.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { LoopProbe } from './nats-probe.js';

const busUrl = process.env.BUS_URL ?? 'nats://127.0.0.1:4222';
if (process.env.BENCH_PROBE === '1') {
  const probe = new LoopProbe().start();
  const probeNc = await connect({ servers: busUrl });
  const encoder = new TextEncoder();
  probeNc.subscribe(`${process.env.BUS_SUBJECT_PREFIX ?? 'curfew'}.probe.${process.argv[2] ?? ''}`, {
    callback: (_error, msg) => msg.respond(encoder.encode(JSON.stringify(probe.take()))),
  });
  await probeNc.flush();
}

if (process.argv[2] === 'nats-echo') {
  const nc = await connect({ servers: busUrl });
  const reply = new TextEncoder().encode(process.env.ECHO_REPLY ?? '{"valid":true}');
  nc.subscribe(`${process.env.BUS_SUBJECT_PREFIX ?? 'curfew'}.echo`, { queue: 'echo', callback: (_error, msg) => msg.respond(reply) });
  await nc.flush();
  process.once('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
  process.stdout.write('READY nats\n');
  await nc.closed();
  process.exit(0);
}

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
