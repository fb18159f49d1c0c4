import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/database.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../helpers/http.js';
import { SECRET } from '../triggers/helpers.js';
import { VariantSmtpServer } from './smtp-variants.js';
import { seedUsers, twoSteps } from './support.js';

/**
 * Delivery outcomes against a real smtp-server: what reached the server is
 * counted per (recipient, step) and must never exceed one.
 */
describe(`sequence delivery outcomes on ${testEngine()}`, () => {
  let smtp: VariantSmtpServer;
  let t: TestApp;
  let clock: TestClock;
  /** `unknown` alert webhook bodies received (job:type:state); the fresh app's `late` alerts are ignored. */
  const alerts: string[] = [];
  let hook: Server;

  before(async () => {
    smtp = await new VariantSmtpServer().start();
    hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const event = JSON.parse(body) as { type: string; state: string; job: string };
        if (event.type === 'job.unknown') alerts.push(`${event.job}:${event.type}:${event.state}`);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await smtp.stop();
    await new Promise<void>((resolve) => hook.close(() => resolve()));
  });
  beforeEach(async () => {
    smtp.received.length = 0;
    smtp.behaviour = { kind: 'accept' };
    clock = new TestClock(Date.UTC(2026, 0, 1));
    alerts.length = 0;
    t = await startTestApp({
      clock,
      env: {
        SMTP_URL: smtp.url,
        SEQUENCE_SMTP_TIMEOUT_MS: '400',
        SEQUENCE_SMTP_CONNECTIONS: '2',
        CRON_SECRETS: SECRET,
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      },
    });
    await t.app.services.sequences.create(twoSteps());
  });
  afterEach(async () => {
    await t.stop();
  });

  async function enroll(count: number): Promise<void> {
    await seedUsers(t.app, count);
    for (let i = 0; i < count; i++) await t.app.services.sequences.enroll('welcome', { email: `u${i}@example.com` });
  }

  it('a 421/451 reply is retried with back-off on the injected clock, then sent once', async () => {
    await enroll(2);
    smtp.behaviour = { kind: 'tempfail', code: 451, times: 1 };
    const first = await t.app.services.sequences.tickNow();
    assert.equal(first.retried, 2, JSON.stringify(first));
    assert.equal(first.sent, 0);
    assert.equal((await t.app.services.sequences.tickNow()).sent, 0, 'not due before the back-off');
    clock.advance(30_000);
    const second = await t.app.services.sequences.tickNow();
    assert.equal(second.sent, 2, JSON.stringify(second));
    assert.equal(smtp.received.filter((m) => m.accepted).length, 2);
    const sends = await t.app.services.sequences.listSends({ state: 'sent' });
    assert.deepEqual(sends.map((s) => s.attempts).sort(), [2, 2]);

    smtp.behaviour = { kind: 'tempfail', code: 421, times: 1 };
    clock.advance(86_400_000);
    const deferred = await t.app.services.sequences.tickNow();
    assert.equal(deferred.retried, 2, `${JSON.stringify(deferred)} ${JSON.stringify(await t.app.services.sequences.listSends({}))}`);
    clock.advance(30_000);
    assert.equal((await t.app.services.sequences.tickNow()).sent, 2);
    assert.equal(smtp.maxPerRecipientAndSubject(), 1, 'never two accepted per (recipient, step)');
  });

  it('a 550 for one recipient fails that send and suppresses the address; the others are sent', async () => {
    await enroll(3);
    smtp.behaviour = { kind: 'reject', recipient: 'u1@example.com' };
    const counts = await t.app.services.sequences.tickNow();
    assert.equal(counts.sent, 2, JSON.stringify(counts));
    assert.equal(counts.failed, 1);
    const [failed] = await t.app.services.sequences.listSends({ state: 'failed' });
    assert.equal(failed?.email, 'u1@example.com');
    assert.equal(failed?.response_code, 550);
    assert.equal(await t.app.services.sequences.suppressionList.reason('u1@example.com'), 'bounce');
    smtp.behaviour = { kind: 'accept' };
    clock.advance(86_400_000);
    const next = await t.app.services.sequences.tickNow();
    assert.equal(next.sent, 2, 'step 2 goes only to the two deliverable addresses');
    assert.ok(!smtp.received.some((m) => m.to === 'u1@example.com'));
    assert.equal((await t.app.services.sequences.get('welcome')).counts.unsubscribed, 1);
  });

  for (const kind of ['drop-after-data', 'stall'] as const) {
    it(`${kind === 'stall' ? 'a server that stalls past the timeout after DATA' : 'a connection dropped after DATA'} leaves the send unknown: never retried, visible, later steps wait`, async () => {
      await enroll(1);
      smtp.behaviour = { kind };
      const counts = await t.app.services.sequences.tickNow();
      assert.equal(counts.unknown, 1, JSON.stringify(counts));
      assert.equal(counts.sent, 0);
      assert.equal(smtp.received.length, 1, 'the data reached the server');
      smtp.behaviour = { kind: 'accept' };
      for (let i = 0; i < 3; i++) {
        clock.advance(7 * 86_400_000);
        const later = await t.app.services.sequences.tickNow();
        assert.equal(later.sent, 0, 'neither the unknown step nor a later one is sent');
      }
      assert.equal(smtp.received.length, 1);
      const [unknown] = await t.app.services.sequences.listSends({ state: 'unknown' });
      assert.ok(unknown);
      assert.equal((await t.app.services.sequences.get('welcome')).counts.unknown, 1);
      assert.equal((await t.app.services.sequences.sendCounts()).unknown, 1);
      const metrics = await t.app.services.metrics.render();
      assert.match(metrics.body, /curfew_mail_unknown\{source="sequence"\} 1/);
      const status = await new HttpClient(t.url).get<{ unknown_sends: { sequence: number; outbox: number } }>('/cron/status', { headers: { authorization: `Bearer ${SECRET}` } });
      assert.deepEqual(status.body.unknown_sends, { sequence: 1, outbox: 0 });
      await t.app.services.alerts.check();
      await t.app.services.alerts.idle();
      assert.deepEqual(alerts, ['sequence-tick:job.unknown:firing']);

      // The operator knows the mail arrived: step 2 follows after its delay.
      await t.app.services.sequences.resolve(Number(unknown.id), 'sent');
      await t.app.services.alerts.check();
      assert.deepEqual(alerts, ['sequence-tick:job.unknown:firing', 'sequence-tick:job.unknown:resolved']);
      assert.equal((await t.app.services.sequences.tickNow()).sent, 0);
      clock.advance(86_400_000);
      assert.equal((await t.app.services.sequences.tickNow()).sent, 1);
      assert.equal(smtp.maxPerRecipientAndSubject(), 1);
    });
  }

  it('"retry" on an unknown send sends it again (the operator decided it did not arrive)', async () => {
    await enroll(1);
    smtp.behaviour = { kind: 'drop-after-data' };
    await t.app.services.sequences.tickNow();
    const [unknown] = await t.app.services.sequences.listSends({ state: 'unknown' });
    assert.ok(unknown);
    smtp.behaviour = { kind: 'accept' };
    await assert.rejects(t.app.services.sequences.resolve(999_999, 'sent'), { code: 'SEND_NOT_FOUND' });
    await t.app.services.sequences.resolve(Number(unknown.id), 'retry');
    await assert.rejects(t.app.services.sequences.resolve(Number(unknown.id), 'retry'), { code: 'SEND_NOT_UNKNOWN' });
    assert.equal((await t.app.services.sequences.tickNow()).sent, 1);
    assert.equal(smtp.received.filter((m) => m.accepted).length, 1);
  });

  it('the transactional outbox: a drop after DATA is unknown, not a silent resend', async () => {
    smtp.behaviour = { kind: 'drop-after-data' };
    await t.app.services.mail.enqueue({ to: 'x@example.com', subject: 'outbox mail', text: 'hello' });
    assert.equal(await t.app.services.mail.sendDueNow(), 0);
    smtp.behaviour = { kind: 'accept' };
    clock.advance(86_400_000);
    assert.equal(await t.app.services.mail.sendDueNow(), 0);
    assert.equal(smtp.received.length, 1);
    const rows = await t.app.services.mail.unknown.list();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.status, 'unknown');
    assert.equal(await t.app.services.mail.unknown.resolve(Number(rows[0]?.id), 'retry'), true);
    assert.equal(await t.app.services.mail.sendDueNow(), 1);
  });

  it('an outbox row left sending by a stopped sender becomes unknown after its lease, never pending', async () => {
    const id = await t.app.services.mail.enqueue({ to: 'y@example.com', subject: 'stale', text: 'hello' });
    const { db } = t.app.services.storage;
    await db.updateTable('mail_outbox').set({ status: 'sending', locked_by: 'dead-instance', locked_until: clock.now() + 1000, attempts: 1 }).where('id', '=', id).execute();
    clock.advance(1000);
    assert.equal(await t.app.services.mail.sendDueNow(), 0);
    const row = await db.selectFrom('mail_outbox').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'unknown');
    assert.equal(smtp.received.length, 0);
  });
});
