import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, postgresUnavailable, postgresUrl, type TestDatabase } from '../helpers/database.js';
import { eventually } from '../jobs/fixture.js';
import { VariantSmtpServer } from './smtp-variants.js';
import { seedUsers, twoSteps } from './support.js';

/**
 * Real processes on one PostgreSQL: two instances ticking over the same due
 * enrollments at once, and an instance killed with SIGKILL mid-batch. What
 * the SMTP server received is counted per (recipient, step): never two.
 */
const skip = await postgresUnavailable();
const USERS = 300;

function spawnTicker(database: TestDatabase, env: Record<string, string>, output: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sequences/tick-child.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      ...database.env,
      NODE_ENV: 'test',
      SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: 'warn',
      SCHEDULER: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe('sequence mail across processes on one PostgreSQL', { skip }, () => {
  let database: TestDatabase;
  let smtp: VariantSmtpServer;
  let t: TestApp;
  const clock = new TestClock(Date.now());

  before(async () => {
    process.env.DATABASE_URL ??= postgresUrl();
    database = await createTestDatabase();
    smtp = await new VariantSmtpServer().start();
    t = await startTestApp({ database, clock, env: { SMTP_URL: smtp.url } });
  });
  after(async () => {
    await t?.stop();
    await smtp?.stop();
    await database?.drop();
  });

  it('two instances ticking concurrently over the same due enrollments send each step exactly once', async () => {
    const { sequences } = t.app.services;
    await sequences.create(twoSteps('duo', '0s'));
    await seedUsers(t.app, USERS, 'duo');
    for (let i = 0; i < USERS; i++) await sequences.enroll('duo', { email: `duo${i}@example.com` });
    const output: string[] = [];
    const env = { SMTP_URL: smtp.url, SEQUENCE_BATCH_SIZE: '25' };
    const children = [spawnTicker(database, env, output), spawnTicker(database, env, output)];
    const codes = await Promise.all(children.map(exited));
    assert.deepEqual(codes, [0, 0], output.join(''));
    const totals = output.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, number>);
    assert.equal(totals.length, 2, output.join(''));
    assert.equal(totals.reduce((sum, counts) => sum + (counts.sent ?? 0), 0), USERS * 2, JSON.stringify(totals));
    assert.ok(totals.every((counts) => (counts.sent ?? 0) > 0), `both instances sent: ${JSON.stringify(totals)}`);
    assert.equal(smtp.received.length, USERS * 2);
    assert.equal(smtp.maxPerRecipientAndSubject(), 1, 'never two per (recipient, step)');
    const states = await sequences.sendCounts();
    assert.equal(states.sent, USERS * 2);
    assert.equal(states.unknown + states.failed + states.queued + states.sending, 0);
  });

  it('kill -9 mid-batch: rows left sending become unknown after the lease, never resent; the rest is sent once', async () => {
    const { sequences, storage } = t.app.services;
    await sequences.create(twoSteps('killed', '1d'));
    await seedUsers(t.app, 60, 'killed');
    for (let i = 0; i < 60; i++) await sequences.enroll('killed', { email: `killed${i}@example.com` });
    smtp.received.length = 0;
    smtp.behaviour = { kind: 'stall' };
    const output: string[] = [];
    const child = spawnTicker(database, { SMTP_URL: smtp.url, SEQUENCE_BATCH_SIZE: '20', SEQUENCE_SMTP_TIMEOUT_MS: '600000', SEQUENCE_SEND_LEASE: '10' }, output);
    const sendingRows = async () =>
      Number((await storage.db.selectFrom('sequence_sends').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'sending').executeTakeFirstOrThrow()).n);
    // Event-bound, not time-bound: a loaded machine may take long to start the child; the deadline is only a safety net.
    await eventually(() => output.join('').includes('ready'), 180_000);
    await eventually(async () => smtp.received.length > 0 && (await sendingRows()) > 0, 180_000);
    child.kill('SIGKILL');
    await exited(child);
    const leftSending = await sendingRows();
    assert.ok(leftSending > 0);
    const reached = new Set(smtp.received.map((m) => m.to));

    smtp.behaviour = { kind: 'accept' };
    clock.set(Date.now() + 11_000);
    const counts = await sequences.tickNow();
    assert.equal(counts.unknown, leftSending, JSON.stringify(counts));
    assert.equal((await sequences.sendCounts()).unknown, leftSending);
    const unknownRecipients = new Set((await sequences.listSends({ state: 'unknown', limit: 1000 })).map((s) => s.email));
    for (const to of reached) assert.ok(unknownRecipients.has(to), `${to} got data before the kill; its send is unknown`);
    assert.equal((counts.sent ?? 0) + leftSending, 60 - (await storage.db.selectFrom('sequence_sends').select('id').where('state', '=', 'queued').execute()).length);
    assert.equal(smtp.maxPerRecipientAndSubject(), 1, 'nothing reached the server twice');
  });
});
