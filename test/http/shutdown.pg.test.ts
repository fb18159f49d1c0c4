import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../helpers/database.js';
import { httpRequest, openDescriptors } from './raw-http.js';

const skip = await postgresUnavailable();
if (skip) console.log(`# skipped: ${skip}`);

const GRACE_SECONDS = 2;

/** Resolves with the first output line matching `pattern`, re-checking on each chunk; fails after `timeoutMs`. */
function waitForOutput(lines: string[], child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const look = () => {
      const hit = lines.find((line) => pattern.test(line));
      if (hit === undefined) return false;
      clearTimeout(timer);
      child.stdout?.off('data', look);
      resolve(hit);
      return true;
    };
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${lines.join('')}`)), timeoutMs);
    if (!look()) child.stdout?.on('data', look);
  });
}

/**
 * A real `curfew serve` on PostgreSQL with the scheduler running a job
 * every second, held up by clients that stall (issue 16 #2: SIGTERM never
 * completed, and the half-stopped instance kept running jobs). It must
 * exit within SHUTDOWN_GRACE + 1 s and start no run after "shutting down".
 */
describe('SIGTERM with stalled clients', { skip }, () => {
  let database: TestDatabase;
  let child: ChildProcess | undefined;
  const output: string[] = [];
  const sockets: Socket[] = [];

  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await database.drop();
  });

  it(`exits within SHUTDOWN_GRACE (${GRACE_SECONDS} s) + 1 s and runs nothing after "shutting down"`, async (context) => {
    child = spawn(process.execPath, ['bin/curfew.js', 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...database.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        SECRET_KEY: 'shutdown-test-secret-key-0123456789abcdef',
        LOG_LEVEL: 'info',
        SCHEDULER: 'on',
        SHUTDOWN_GRACE: String(GRACE_SECONDS),
        JOB_CHECK_INACTIVE_USERS_SCHEDULE: '* * * * * *',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const listening = await waitForOutput(output, child, /curfew listening on http:\/\/127\.0\.0\.1:\d+/, 60_000);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(listening)?.[1]);

    const client = new pg.Client({ connectionString: database.env.DATABASE_URL });
    await client.connect();
    const schema = database.env.DATABASE_SCHEMA as string;
    const runsSince = async (ms: number) =>
      Number((await client.query<{ n: string }>(`select count(*) as n from ${schema}.cron_runs where started_at >= $1`, [ms])).rows[0]?.n ?? 0);
    try {
      // The scheduler is running: wait for its every-second job to record runs.
      for (let attempt = 0; (await runsSince(0)) < 2; attempt += 1) {
        assert.ok(attempt < 150, 'the scheduler recorded two runs within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      // Stalled clients: half-sent bodies, half-sent headers (an upgrade among them), idle keep-alives, plain upgrades.
      const stall = (bytes: string | Buffer) =>
        new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.write(bytes);
            resolve();
          });
          socket.on('error', () => undefined);
          sockets.push(socket);
        });
      for (let i = 0; i < 3; i += 1) {
        await stall(httpRequest('POST', '/api/v1/login/', { 'Content-Type': 'application/json', 'Content-Length': '5000' }, '{"email":"'));
        await stall('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n');
        await stall(httpRequest('GET', '/health', { Connection: 'keep-alive' }));
        await stall(httpRequest('GET', '/health', { Connection: 'Upgrade', Upgrade: 'h2c' }));
      }
      const descriptors = openDescriptors(child.pid as number);

      const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
      const signalled = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      const elapsed = Date.now() - signalled;
      const line = output.join('').split('\n').find((entry) => entry.includes('"shutting down"'));
      assert.ok(line, 'logged "shutting down"');
      const shutdownAt = Date.parse((JSON.parse(line) as { time: string }).time);
      context.diagnostic(`SIGTERM to exit with 12 stalled clients: ${elapsed} ms (grace ${GRACE_SECONDS * 1000} ms); child descriptors before SIGTERM: ${descriptors ?? 'n/a'}`);
      assert.equal(code, 0, output.join(''));
      assert.ok(elapsed <= GRACE_SECONDS * 1000 + 1000, `exited after ${elapsed} ms`);
      // A run started in the same millisecond as the log line would be one already under way.
      assert.equal(await runsSince(shutdownAt + 1), 0, 'no run started after "shutting down"');
    } finally {
      await client.end();
    }
  });
});
