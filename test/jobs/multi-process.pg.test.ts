import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, postgresUnavailable, postgresUrl, type TestDatabase } from '../helpers/database.js';
import { eventually } from './fixture.js';

/**
 * Several real `curfew serve` processes on one PostgreSQL schema, each with
 * its in-process scheduler on, running the test-only jobs (CURFEW_TEST_JOBS=1:
 * every-second schedules that append one line per run to DATA_DIR/test-jobs.log).
 */
const skip = await postgresUnavailable();

interface Row {
  id: number;
  scheduled_for: number | null;
  status: string;
  instance_id: string;
  error: string | null;
}

class Cluster {
  readonly children = new Map<string, ChildProcess>();
  readonly output: string[] = [];
  constructor(
    readonly database: TestDatabase,
    readonly env: Record<string, string>,
  ) {}

  start(names: readonly string[]): void {
    for (const name of names) {
      const child = spawn(process.execPath, ['bin/curfew.js', 'serve'], {
        env: {
          PATH: process.env.PATH ?? '',
          ...this.database.env,
          NODE_ENV: 'test',
          PORT: '0',
          SCHEDULER: 'on',
          SECRET_KEY: 'multi-process-test-secret-key-0123456789abcdef',
          LOG_LEVEL: 'warn',
          CURFEW_TEST_JOBS: '1',
          INSTANCE_ID: name,
          // Only the test jobs: the built-ins would add noise, not coverage.
          JOB_CHECK_INACTIVE_USERS_ENABLED: 'false',
          JOB_SEQUENCE_TICK_ENABLED: 'false',
          JOB_CLEAR_EXPIRED_SESSIONS_ENABLED: 'false',
          JOB_FLUSH_EXPIRED_TOKENS_ENABLED: 'false',
          JOB_PRUNE_CRON_RUNS_ENABLED: 'false',
          JOB_PURGE_UNACTIVATED_ACCOUNTS_ENABLED: 'false',
          ...this.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => this.output.push(`${name}: ${chunk.toString()}`));
      child.stderr?.on('data', (chunk: Buffer) => this.output.push(`${name}: ${chunk.toString()}`));
      this.children.set(name, child);
    }
  }

  /** Sends `signal` to one child we started (by its PID) and waits for it to exit. */
  async kill(name: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.children.get(name);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((name) => this.kill(name, 'SIGTERM')));
  }

  logLines(): string[] {
    const file = join(this.database.env.DATA_DIR as string, 'test-jobs.log');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : [];
  }
}

async function query(database: TestDatabase, job: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    const result = await client.query<Row>(
      `select id, scheduled_for::float8 as scheduled_for, status, instance_id, error from ${database.env.DATABASE_SCHEMA}.cron_runs where job = $1 order by id`,
      [job],
    );
    return result.rows;
  } catch {
    return []; // not migrated yet
  } finally {
    await client.end();
  }
}

async function leaseHolder(database: TestDatabase, job: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    const result = await client.query<{ holder: string }>(`select holder from ${database.env.DATABASE_SCHEMA}.job_leases where job = $1`, [job]);
    return result.rows[0]?.holder;
  } catch {
    return undefined; // not migrated yet
  } finally {
    await client.end();
  }
}

describe('several real processes on one PostgreSQL', { skip: skip ?? false }, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(() => database.drop());

  it('runs each slot exactly once across 3 schedulers (one ok row and one side effect per slot)', async () => {
    const cluster = new Cluster(database, {});
    try {
      cluster.start(['p1', 'p2', 'p3']);
      await eventually(async () => (await query(database, 'test-counter')).filter((r) => r.status === 'ok').length >= 5, 30_000);
    } finally {
      await cluster.stopAll();
    }
    const rows = await query(database, 'test-counter');
    const ok = rows.filter((r) => r.status === 'ok');
    const okSlots = ok.map((r) => r.scheduled_for);
    assert.equal(new Set(okSlots).size, okSlots.length, 'no slot has two ok rows');
    const effects = cluster.logLines().filter((line) => line.startsWith('counter '));
    const effectSlots = effects.map((line) => Number(line.split(' ')[1]));
    assert.equal(new Set(effectSlots).size, effectSlots.length, `no slot ran twice:\n${effects.join('\n')}`);
    assert.deepEqual([...effectSlots].sort(), [...okSlots].map(Number).sort(), 'one side effect per ok row');
    assert.ok(rows.every((r) => r.status !== 'running'), 'stop() drained every run');
  });

  it('kill -9 of the lease holder mid-run: after the lease TTL another instance runs the next slot; the dead run is failed/abandoned', async () => {
    await (async () => {
      const client = new pg.Client({ connectionString: postgresUrl() });
      await client.connect();
      await client.query(`delete from ${database.env.DATABASE_SCHEMA}.cron_runs`);
      await client.end();
    })();
    const cluster = new Cluster(database, { JOB_TEST_COUNTER_ENABLED: 'false', JOB_TEST_SLOW_ENABLED: 'true', JOB_TEST_SLOW_LEASE_TTL: '2s' });
    try {
      cluster.start(['k1', 'k2', 'k3']);
      let victim: Row | undefined;
      // The victim is the lease holder, caught while its run is in progress.
      await eventually(async () => {
        const holder = await leaseHolder(database, 'test-slow');
        victim = (await query(database, 'test-slow')).find((r) => r.status === 'running' && r.instance_id === holder);
        return victim !== undefined;
      }, 30_000);
      const dead = victim as Row;
      await cluster.kill(dead.instance_id, 'SIGKILL');
      await eventually(async () => {
        const rows = await query(database, 'test-slow');
        return rows.some((r) => r.status === 'ok' && (r.scheduled_for ?? 0) > (dead.scheduled_for ?? 0));
      }, 20_000);
      const rows = await query(database, 'test-slow');
      const deadNow = rows.find((r) => r.id === dead.id);
      assert.equal(deadNow?.status, 'failed');
      assert.equal(deadNow?.error, 'abandoned (lease expired)');
      const ok = rows.filter((r) => r.status === 'ok');
      assert.ok(ok.every((r) => r.instance_id !== dead.instance_id), 'the dead instance has no success');
      assert.equal(new Set(ok.map((r) => r.scheduled_for)).size, ok.length);
      assert.ok(!cluster.logLines().includes(`slow ${dead.scheduled_for} ${dead.instance_id}`), 'the killed run never completed its side effect');
    } finally {
      await cluster.stopAll();
      if (process.env.DEBUG_MULTI) process.stderr.write(cluster.output.join(''));
    }
  });
});
