import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, postgresUnavailable, postgresUrl, type TestDatabase } from '../helpers/database.js';
import { SECRET } from './helpers.js';

/**
 * Several real `curfew serve` processes on one PostgreSQL schema, each with
 * its in-process scheduler firing the test-only every-second job, while 50
 * concurrent `/cron/run` calls hit them too: every slot still runs once.
 */
const skip = await postgresUnavailable();

class Instance {
  readonly output: string[] = [];
  readonly url: Promise<string>;
  constructor(readonly child: ChildProcess) {
    this.url = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${this.output.join('')}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(text);
        const match = /curfew listening on (http:\/\/[^" ]+)/.exec(text);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${this.output.join('')}`)));
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

describe('triggers and schedulers in several processes on one PostgreSQL', { skip: skip ?? false }, () => {
  let database: TestDatabase;
  const instances: Instance[] = [];

  before(async () => {
    database = await createTestDatabase('postgres');
    for (const name of ['p1', 'p2', 'p3']) {
      const child = spawn(process.execPath, ['bin/curfew.js', 'serve'], {
        env: {
          PATH: process.env.PATH ?? '',
          ...database.env,
          NODE_ENV: 'test',
          PORT: '0',
          SCHEDULER: 'on',
          SECRET_KEY: 'multi-process-trigger-test-secret-key-0123456789',
          CRON_SECRETS: SECRET,
          CRON_THROTTLE_MAX: '1000',
          LOG_LEVEL: 'info',
          CURFEW_TEST_JOBS: '1',
          INSTANCE_ID: name,
          JOB_CHECK_INACTIVE_USERS_ENABLED: 'false',
          JOB_SEQUENCE_TICK_ENABLED: 'false',
          JOB_CLEAR_EXPIRED_SESSIONS_ENABLED: 'false',
          JOB_FLUSH_EXPIRED_TOKENS_ENABLED: 'false',
          JOB_PRUNE_CRON_RUNS_ENABLED: 'false',
          JOB_PURGE_UNACTIVATED_ACCOUNTS_ENABLED: 'false',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      instances.push(new Instance(child));
    }
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    for (const instance of instances) {
      assert.ok(!instance.output.join('').includes(SECRET), 'no process logged the secret');
    }
    await database?.drop();
  });

  it('runs each slot exactly once while 50 concurrent /cron/run calls race the in-process schedulers', async () => {
    const urls = await Promise.all(instances.map((instance) => instance.url));
    // Let the schedulers fire a few slots on their own first.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, index) => {
        const response = await fetch(`${urls[index % urls.length]}/cron/run`, {
          method: index % 2 === 0 ? 'POST' : 'GET',
          headers: { authorization: `Bearer ${SECRET}` },
        });
        return { status: response.status, body: (await response.json()) as { ok: boolean; data?: { runs: Array<{ job: string; status: string }> } } };
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await Promise.all(instances.map((instance) => instance.stop()));

    const statuses = answers.map((answer) => answer.status);
    assert.ok(statuses.every((status) => status === 200 || status === 409), `only 200 and 409: ${statuses.join(',')}`);
    assert.ok(statuses.includes(200), 'at least one /cron/run executed');

    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    let rows: Array<{ scheduled_for: number; status: string; trigger: string; instance_id: string }>;
    try {
      const result = await client.query(
        `select scheduled_for::float8 as scheduled_for, status, trigger, instance_id from ${database.env.DATABASE_SCHEMA}.cron_runs where job = 'test-counter' and scheduled_for is not null`,
      );
      rows = result.rows;
    } finally {
      await client.end();
    }
    const okSlots = rows.filter((row) => row.status === 'ok').map((row) => row.scheduled_for);
    assert.ok(okSlots.length >= 3, `several slots ran (${okSlots.length})`);
    assert.equal(new Set(okSlots).size, okSlots.length, 'no slot has two ok rows');
    assert.ok(rows.some((row) => row.trigger === 'schedule'), 'the in-process schedulers fired slots');

    const logFile = join(database.env.DATA_DIR as string, 'test-jobs.log');
    const effects = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((line) => line.startsWith('counter ')) : [];
    const effectSlots = effects.map((line) => Number(line.split(' ')[1]));
    assert.equal(new Set(effectSlots).size, effectSlots.length, `each slot's side effect happened once (${effects.length} lines)`);
    assert.deepEqual([...effectSlots].sort(), [...okSlots].sort(), 'one side effect per ok ledger row');
  });
});
