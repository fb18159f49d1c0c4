import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { openStorage } from '../../src/db/connect.js';
import type { Storage } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { CURFEW_TEST_ENTRY } from '../helpers/test-jobs.js';
import { eventually } from './fixture.js';

/**
 * Issue 16 #8 (regression): a crash during /cron/run blocked every outside
 * trigger for up to 10 minutes, because the schedule-run lease lived 600 s.
 * Now the lease is short (SCHEDULER_LEASE_TTL 20 s) and renewed every
 * heartbeat (5 s): two real `curfew serve` processes share one database, the
 * first is killed with SIGKILL in the middle of a /cron/run whose job hangs,
 * and a caller of the second is answered with a run (not 409 "busy") as soon
 * as the dead holder's lease runs out. Defaults are used on purpose, so the
 * printed takeover time is the one users get. Nothing here asserts a
 * duration: the test polls the ledger until the takeover is recorded.
 */
const SECRET = 'takeover-test-secret-0123456789abcdef-0123';

class Instance {
  readonly output: string[] = [];
  readonly url: Promise<string>;
  readonly child: ChildProcess;
  constructor(database: TestDatabase, name: string, slowMs: number) {
    this.child = spawn(process.execPath, [...CURFEW_TEST_ENTRY, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...database.env,
        NODE_ENV: 'test',
        PORT: '0',
        SCHEDULER: 'off',
        SECRET_KEY: 'takeover-test-secret-key-0123456789abcdef',
        CRON_SECRETS: SECRET,
        CRON_THROTTLE_MAX: '1000',
        LOG_LEVEL: 'info',
        INSTANCE_ID: name,
        TEST_SLOW_MS: String(slowMs),
        JOB_TEST_SLOW_ENABLED: 'true',
        JOB_TEST_COUNTER_ENABLED: 'false',
        JOB_CHECK_INACTIVE_USERS_ENABLED: 'false',
        JOB_SEQUENCE_TICK_ENABLED: 'false',
        JOB_CLEAR_EXPIRED_SESSIONS_ENABLED: 'false',
        JOB_FLUSH_EXPIRED_TOKENS_ENABLED: 'false',
        JOB_PRUNE_CRON_RUNS_ENABLED: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.url = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no listening line: ${this.output.join('')}`)), 180_000);
      this.child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(text);
        const match = /curfew listening on (http:\/\/[^" ]+)/.exec(text);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      this.child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
      this.child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}): ${this.output.join('')}`)));
    });
    this.url.catch(() => undefined);
  }

  /** Sends `signal` to the child this test started (by its PID) and waits for its exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await exited;
  }
}

async function cronRun(url: string): Promise<{ status: number; body: { ok?: boolean; data?: { cron_run_id: number; runs: Array<{ job: string; status: string }> } } }> {
  const response = await fetch(`${url}/cron/run`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` } });
  return { status: response.status, body: (await response.json()) as never };
}

describe('kill -9 in the middle of /cron/run (issue 16 #8)', () => {
  let database: TestDatabase;
  let storage: Storage;
  const instances: Instance[] = [];

  before(async () => {
    database = await createTestDatabase();
    const config = loadConfig({ env: { ...BASE_TEST_ENV, ...database.env }, secretKey: TEST_SECRET_KEY });
    storage = openStorage(config.database);
    await migrateToLatest(storage, config.database.kind === 'postgres' ? config.database.schema : undefined);
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.kill('SIGTERM')));
    for (const instance of instances) assert.ok(!instance.output.join('').includes(SECRET), 'no process logged the secret');
    await storage?.close();
    await database?.drop();
  });

  const rows = (job: string) =>
    storage.db.selectFrom('cron_runs').select(['id', 'status', 'instance_id', 'error', 'started_at', 'finished_at']).where('job', '=', job).orderBy('id').execute();

  it('another instance takes the dead run over within the short lease: the caller gets a run, not "busy"', async () => {
    // `dead` works on test-slow for 10 minutes: it is killed long before.
    const dead = new Instance(database, 'dead', 600_000);
    const live = new Instance(database, 'live', 50);
    instances.push(dead, live);
    const [deadUrl, liveUrl] = await Promise.all([dead.url, live.url]);

    const inFlight = cronRun(deadUrl).catch((error: unknown) => error);
    await eventually(async () => {
      const [scheduleRun, slow] = await Promise.all([rows('schedule-run'), rows('test-slow')]);
      return scheduleRun.some((r) => r.status === 'running' && r.instance_id === 'dead') && slow.some((r) => r.status === 'running' && r.instance_id === 'dead');
    }, 60_000);
    // While the holder is alive and renewing, a second caller is told "busy".
    const busy = await cronRun(liveUrl);
    assert.equal(busy.status, 409, JSON.stringify(busy.body));

    await dead.kill('SIGKILL');
    const killedAt = Date.now();
    assert.ok((await inFlight) instanceof Error, 'the killed instance never answered');

    // An outside caller retries, as cron sites and `curfew trigger` do, until it is answered with a run.
    const answers: number[] = [];
    let taken: Awaited<ReturnType<typeof cronRun>> | undefined;
    const deadline = Date.now() + 120_000;
    const poll = async () => {
      while (Date.now() < deadline) {
        const answer = await cronRun(liveUrl);
        answers.push(answer.status);
        if (answer.status === 200) return (taken = answer);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error('condition not met in time');
    };
    await poll().catch((error: unknown) => {
      throw new Error(`no takeover; answers ${[...new Set(answers)].join(',')} (${answers.length})\nlive: ${live.output.join('')}`, { cause: error });
    });
    const answeredAt = Date.now();
    assert.ok(answers.every((status) => status === 200 || status === 409), `only 200 or 409: ${answers.join(',')}`);
    assert.ok(taken?.body.data?.runs.some((run) => run.job === 'test-slow' && run.status === 'ok'), JSON.stringify(taken?.body));

    const scheduleRuns = await rows('schedule-run');
    const deadRun = scheduleRuns.find((r) => r.instance_id === 'dead');
    assert.equal(deadRun?.status, 'failed');
    assert.equal(deadRun?.error, 'abandoned (lease expired)');
    const takeover = scheduleRuns.find((r) => r.id === taken?.body.data?.cron_run_id);
    assert.equal(takeover?.instance_id, 'live');
    assert.equal(takeover?.status, 'ok');
    const slow = await rows('test-slow');
    assert.deepEqual(
      slow.filter((r) => r.instance_id === 'dead').map((r) => [r.status, r.error]),
      [['failed', 'abandoned (lease expired)']],
      'the killed job run is recorded as abandoned, never as running or ok',
    );
    assert.ok(slow.some((r) => r.instance_id === 'live' && r.status === 'ok'));
    // The figure for the closing note (issue 16: goal <= 30 s); printed, not asserted.
    process.stderr.write(
      `# takeover after kill -9: ${((Number(takeover?.started_at) - killedAt) / 1000).toFixed(1)} s to the new schedule run, ` +
        `${((answeredAt - killedAt) / 1000).toFixed(1)} s to the caller's 200 (${answers.length} calls: ${answers.filter((status) => status === 409).length} busy, then a run)\n`,
    );
  });
});
