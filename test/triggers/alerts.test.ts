import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AlertMonitor } from '../../src/alerts/monitor.js';
import { DurationHistory } from '../../src/alerts/slow.js';
import type { AlertEvent } from '../../src/alerts/types.js';
import { webhookSink } from '../../src/alerts/webhook.js';
import { TestClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/index.js';
import { openStorage } from '../../src/db/connect.js';
import type { Storage } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { JobAlertsRepository } from '../../src/db/repositories/job-alerts.js';
import type { JobStatus, RunSummary } from '../../src/jobs/types.js';
import { createLogger } from '../../src/logger.js';
import { LogCapture, TEST_SECRET_KEY, startTestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testJobs } from '../helpers/test-jobs.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** A real HTTP server on loopback that records every webhook body. */
class WebhookReceiver {
  readonly events: AlertEvent[] = [];
  failNext = 0;
  private server: Server | undefined;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (this.failNext > 0) {
          this.failNext -= 1;
          response.writeHead(500).end();
          return;
        }
        assert.equal(request.headers['content-type'], 'application/json');
        this.events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertEvent);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/hook?token=hook-secret`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
  kinds(): string[] {
    return this.events.map((event) => `${event.job}:${event.type}:${event.state}`);
  }
}

function status(job: string, fields: Partial<JobStatus>): JobStatus {
  return {
    job,
    schedule: '* * * * *',
    timezone: 'UTC',
    enabled: true,
    nextSlot: null,
    lastRun: null,
    lastSuccessAt: null,
    late: false,
    lateBySeconds: 0,
    lateAfterMs: 600_000,
    scheduleText: 'Every minute',
    paused: false,
    pausedAt: null,
    pausedBy: null,
    pauseReason: null,
    consecutiveFailures: 0,
    leaseHolder: null,
    lastSuccessSlot: null,
    overlap: 'skip',
    catchUp: { kind: 'latest' },
    ...fields,
  };
}

describe('alerts', () => {
  const clock = new TestClock(Date.UTC(2026, 3, 1, 8, 0));
  const receiver = new WebhookReceiver();
  const logs = new LogCapture();
  let database: TestDatabase;
  let storages: Storage[] = [];
  let statuses: JobStatus[] = [];

  function monitor(storage: Storage, options: { failureThreshold?: number; history?: DurationHistory } = {}): AlertMonitor {
    return new AlertMonitor({
      clock,
      logger: createLogger({ level: 'info', destination: logs }),
      status: async () => statuses,
      store: new JobAlertsRepository(storage),
      sinks: [webhookSink(receiver.url)],
      instanceId: `instance-${storages.indexOf(storage)}`,
      ...options,
    });
  }

  before(async () => {
    await receiver.start();
    database = await createTestDatabase();
    const config = loadConfig({ env: { NODE_ENV: 'test', ...database.env }, secretKey: TEST_SECRET_KEY });
    const schema = config.database.kind === 'postgres' ? config.database.schema : undefined;
    storages = [openStorage(config.database), openStorage(config.database)];
    await migrateToLatest(storages[0] as Storage, schema);
  });
  after(async () => {
    for (const storage of storages) await storage.close();
    await database.drop();
    await receiver.stop();
  });

  it('sends one "late" event per episode from two instances, and one "resolved" when the job is on time again', async () => {
    const [first, second] = storages.map((storage) => monitor(storage));
    assert.ok(first && second);
    statuses = [status('flush-expired-tokens', { late: true, lastSuccessAt: clock.now() - 3 * 86_400_000 }), status('sequence-tick', {})];
    await Promise.all([first.check(), second.check(), first.check()]);
    clock.advance(60_000);
    await second.check();
    assert.deepEqual(receiver.kinds(), ['flush-expired-tokens:job.late:firing']);
    const event = receiver.events[0] as AlertEvent;
    assert.equal(event.at, new Date(clock.now() - 60_000).toISOString());
    assert.match(event.summary, /flush-expired-tokens is late/);

    statuses = [status('flush-expired-tokens', { late: false, lastSuccessAt: clock.now() }), status('sequence-tick', {})];
    await Promise.all([first.check(), second.check()]);
    await first.check();
    assert.deepEqual(receiver.kinds(), ['flush-expired-tokens:job.late:firing', 'flush-expired-tokens:job.late:resolved']);

    statuses = [status('flush-expired-tokens', { late: true })];
    await second.check();
    assert.equal(receiver.events.length, 3, 'a new episode alerts again');
  });

  it('opens a failing episode after N consecutive failures (default 1) and resolves on success', async () => {
    receiver.events.length = 0;
    const strict = monitor(storages[0] as Storage);
    const lenient = monitor(storages[1] as Storage, { failureThreshold: 3 });
    const failedRun: RunSummary = { id: 7, job: 'clear-expired-sessions', scheduledFor: null, trigger: 'http', status: 'failed', durationMs: 5, counts: {}, error: 'boom' };
    statuses = [status('clear-expired-sessions', { consecutiveFailures: 2, lastRun: failedRun })];
    await lenient.check();
    assert.equal(receiver.events.length, 0, 'two failures are under a threshold of 3');
    await strict.check();
    await strict.check();
    assert.deepEqual(receiver.kinds(), ['clear-expired-sessions:job.failing:firing']);
    assert.equal(receiver.events[0]?.details.last_error, 'boom');
    statuses = [status('clear-expired-sessions', { consecutiveFailures: 0 })];
    await lenient.check();
    assert.deepEqual(receiver.kinds(), ['clear-expired-sessions:job.failing:firing', 'clear-expired-sessions:job.failing:resolved']);
  });

  it('a paused job opens no failing episode, and keeps one that was open until a run succeeds after resume', async () => {
    receiver.events.length = 0;
    const watch = monitor(storages[0] as Storage);
    const failedRun: RunSummary = { id: 8, job: 'mark-inactive-users-offline', scheduledFor: null, trigger: 'http', status: 'failed', durationMs: 5, counts: {}, error: 'down' };
    const pause = { paused: true, pausedAt: clock.now(), pausedBy: 'admin@example.com' };
    statuses = [status('mark-inactive-users-offline', { consecutiveFailures: 4, lastRun: failedRun, ...pause })];
    await watch.check();
    assert.deepEqual(receiver.kinds(), [], 'paused while failing: nothing raised');
    statuses = [status('mark-inactive-users-offline', { consecutiveFailures: 4, lastRun: failedRun })];
    await watch.check();
    assert.deepEqual(receiver.kinds(), ['mark-inactive-users-offline:job.failing:firing'], 'resumed and still failing: raised');
    statuses = [status('mark-inactive-users-offline', { consecutiveFailures: 4, lastRun: failedRun, ...pause })];
    await watch.check();
    assert.equal(receiver.events.length, 1, 'pausing does not call the episode resolved');
    statuses = [status('mark-inactive-users-offline', { consecutiveFailures: 0 })];
    await watch.check();
    assert.deepEqual(receiver.kinds(), ['mark-inactive-users-offline:job.failing:firing', 'mark-inactive-users-offline:job.failing:resolved']);
  });

  it('flags a run far slower than usual once, and resolves on the next usual run', async () => {
    receiver.events.length = 0;
    statuses = [];
    const history = new DurationHistory();
    const watcher = monitor(storages[0] as Storage, { history });
    const finish = async (durationMs: number) => {
      const summary: RunSummary = { id: 1, job: 'sequence-tick', scheduledFor: null, trigger: 'schedule', status: 'ok', durationMs, counts: {} };
      watcher.onRunFinished({ summary, definition: undefined as never, instanceId: 'x' });
      await watcher.idle();
    };
    for (const ms of [100, 120, 110, 90, 105]) await finish(ms);
    assert.equal(receiver.events.length, 0);
    await finish(4000);
    await finish(5000);
    assert.deepEqual(receiver.kinds(), ['sequence-tick:job.slow:firing']);
    assert.equal(receiver.events[0]?.details.usual_ms, 105);
    await finish(100);
    assert.deepEqual(receiver.kinds(), ['sequence-tick:job.slow:firing', 'sequence-tick:job.slow:resolved']);
  });

  it('logs a webhook failure without the webhook URL and keeps running', async () => {
    receiver.events.length = 0;
    receiver.failNext = 1;
    statuses = [status('logout-all-users', { late: true })];
    await monitor(storages[0] as Storage).check();
    assert.equal(receiver.events.length, 0);
    assert.match(logs.text(), /alert could not be sent/);
    assert.ok(!logs.text().includes('hook-secret'), 'the webhook URL (and its token) is not logged');
  });
});

describe('alerts end to end', () => {
  const receiver = new WebhookReceiver();
  before(async () => receiver.start());
  after(async () => receiver.stop());

  it('a job that times out when fired over HTTP answers 500 and raises one "failing" webhook for the streak', async () => {
    const secret = 'alerts-e2e-secret-0123456789abcdef0123';
    const t = await startTestApp({
      clock: new TestClock(Date.UTC(2026, 3, 2, 9, 0)),
      env: {
        CRON_SECRETS: secret,
        JOB_TEST_SLOW_ENABLED: 'true',
        JOB_TEST_SLOW_TIMEOUT: '100ms',
        JOB_TEST_SLOW_RETRIES: '0',
        ALERT_WEBHOOK_URL: receiver.url,
      },
      extraJobs: testJobs,
    });
    try {
      const http = new HttpClient(t.url);
      const headers = { authorization: `Bearer ${secret}` };
      for (let i = 0; i < 2; i += 1) {
        const failed = await http.post<{ ok: boolean; data: { status: string } }>('/cron/jobs/test-slow/run', { headers });
        assert.equal(failed.status, 500, failed.text);
        assert.equal(failed.body.ok, false);
        assert.equal(failed.body.data.status, 'timed_out');
        await t.app.services.alerts.idle();
      }
      assert.deepEqual(
        receiver.kinds().filter((kind) => kind.startsWith('test-slow:job.failing')),
        ['test-slow:job.failing:firing'],
        'one alert for two failures in a row',
      );
      assert.ok(!JSON.stringify(receiver.events).includes(secret));
    } finally {
      await t.stop();
    }
  });
});
