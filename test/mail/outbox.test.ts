import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { activationLink, decodeQuotedPrintable, freePort, SmtpSink } from './smtp-sink.js';

const PROFILE = { type: 'worker' };

async function outboxRow(t: TestApp, id: number) {
  return t.app.services.storage.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe('mail outbox', () => {
  // Apps first: an SMTP server's close waits for the apps' pooled connections.
  const apps: TestApp[] = [];
  const sinks: SmtpSink[] = [];
  after(async () => {
    for (const app of apps) await app.stop();
    for (const sink of sinks) await sink.stop();
  });

  it('keeps a message pending with exponential back-off while SMTP is down, and sends it once SMTP is up', async () => {
    const port = await freePort();
    const clock = new TestClock();
    const t = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` }, clock });
    apps.push(t);
    const { mail } = t.app.services;
    const id = await mail.enqueue({ to: 'down@example.com', subject: 'Hello', text: 'Body text' });

    assert.equal(await mail.sendDueNow(), 0);
    let row = await outboxRow(t, id);
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
    assert.equal(row.next_attempt_at, clock.now() + 30_000);
    assert.equal(row.locked_by, null);
    assert.match(row.last_error ?? '', /ECONNREFUSED|ESOCKET|connect/i);

    // Not due yet: nothing is attempted.
    clock.advance(29_999);
    assert.equal(await mail.sendDueNow(), 0);
    assert.equal((await outboxRow(t, id)).attempts, 1);

    // Due: attempted again, fails again, the delay doubles.
    clock.advance(1);
    assert.equal(await mail.sendDueNow(), 0);
    row = await outboxRow(t, id);
    assert.equal(row.attempts, 2);
    assert.equal(row.next_attempt_at, clock.now() + 60_000);

    const sink = await new SmtpSink().start(port);
    sinks.push(sink);
    clock.advance(59_999);
    assert.equal(await mail.sendDueNow(), 0, 'the back-off holds even though SMTP is back');
    assert.equal(sink.messages.length, 0);

    clock.advance(1);
    assert.equal(await mail.sendDueNow(), 1);
    row = await outboxRow(t, id);
    assert.equal(row.status, 'sent');
    assert.equal(row.attempts, 3);
    assert.equal(row.sent_at, clock.now());
    assert.equal(row.last_error, null);
    assert.equal(sink.messages.length, 1);
    assert.deepEqual(sink.messages[0]?.to, ['down@example.com']);
    assert.match(sink.messages[0]?.raw ?? '', /Message-ID: <outbox-\d+-\d+@127\.0\.0\.1>/i);
    assert.equal(await mail.sendDueNow(), 0, 'a sent row is never sent again');
    assert.match(t.logs.text(), /mail send failed; will retry/);
  });

  it('registration succeeds while SMTP is down; the background sender records the failure on the row', async () => {
    const port = await freePort();
    const clock = new TestClock();
    const t = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` }, clock, background: true });
    apps.push(t);
    const http = new HttpClient(t.url);
    const response = await http.post('/api/v1/register/', { json: { email: 'nosmtp@example.com', password: 'violet harbour lantern 2031', profile: PROFILE } });
    assert.equal(response.status, 201, response.text);
    const deadline = Date.now() + 10_000;
    let row = await t.app.services.storage.db.selectFrom('mail_outbox').selectAll().executeTakeFirstOrThrow();
    while (row.attempts === 0 || row.status === 'sending') {
      assert.ok(Date.now() < deadline, 'the sender never tried');
      await new Promise((resolve) => setTimeout(resolve, 20));
      row = await outboxRow(t, row.id);
    }
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 1);
    assert.equal(row.next_attempt_at, clock.now() + 30_000);
  });

  it('gives up after 8 attempts and marks the row failed', async () => {
    const port = await freePort();
    const clock = new TestClock();
    const t = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` }, clock });
    apps.push(t);
    const { mail } = t.app.services;
    const id = await mail.enqueue({ to: 'never@example.com', subject: 'Hello', text: 'Body' });
    for (let attempt = 1; attempt <= 8; attempt++) {
      await mail.sendDueNow();
      assert.equal((await outboxRow(t, id)).attempts, attempt);
      clock.advance(3_600_000);
    }
    const row = await outboxRow(t, id);
    assert.equal(row.status, 'failed');
    await mail.sendDueNow();
    assert.equal((await outboxRow(t, id)).attempts, 8, 'a failed row is not retried');
    assert.match(t.logs.text(), /failed for good/);
  });

  it('EMAIL_SENDING_ENABLED=false keeps mail in the outbox and says so once', async () => {
    const sink = await new SmtpSink().start();
    sinks.push(sink);
    const t = await startTestApp({ env: { SMTP_URL: sink.url, EMAIL_SENDING_ENABLED: 'false' }, background: true });
    apps.push(t);
    const { mail } = t.app.services;
    const id = await mail.enqueue({ to: 'held@example.com', subject: 'Hello', text: 'Body' });
    assert.equal(await mail.sendDueNow(), 0);
    assert.equal(await mail.sendDueNow(), 0);
    const row = await outboxRow(t, id);
    assert.equal(row.status, 'pending');
    assert.equal(row.attempts, 0);
    assert.equal(sink.messages.length, 0);
    assert.equal(t.logs.lines.filter((line) => line.includes('EMAIL_SENDING_ENABLED=false')).length, 1);
  });

  it('without SMTP_URL writes each message as an .eml file under DATA_DIR/mail and, in development, logs the link', async () => {
    const t = await startTestApp({ env: { NODE_ENV: 'development' } });
    apps.push(t);
    assert.equal(t.app.services.mail.transport, 'file');
    const http = new HttpClient(t.url);
    const response = await http.post('/api/v1/register/', { json: { email: 'files@example.com', password: 'violet harbour lantern 2031', profile: PROFILE } });
    assert.equal(response.status, 201, response.text);
    assert.equal(await t.app.services.mail.sendDueNow(), 1);

    const directory = join(t.app.config.dataDir, 'mail');
    const files = readdirSync(directory);
    assert.equal(files.length, 1, files.join(', '));
    assert.match(files[0] ?? '', /\.eml$/);
    const raw = readFileSync(join(directory, files[0] ?? ''), 'utf8');
    assert.match(raw, /^To: files@example\.com$/m);
    assert.match(raw, /^From: .*no-reply@localhost/m);
    const link = activationLink(raw);
    assert.ok(t.logs.text().includes(link.href), 'the development log shows the activation link');
    const activated = await http.get(link.pathname);
    assert.equal(activated.status, 200);
    assert.ok(decodeQuotedPrintable(raw).includes('expires in 24 hours'));
  });

  it('never logs the activation link when SMTP is configured, even in development', async () => {
    const sink = await new SmtpSink().start();
    sinks.push(sink);
    const t = await startTestApp({ env: { NODE_ENV: 'development', SMTP_URL: sink.url } });
    apps.push(t);
    const http = new HttpClient(t.url);
    const response = await http.post('/api/v1/register/', { json: { email: 'quiet@example.com', password: 'violet harbour lantern 2031', profile: PROFILE } });
    assert.equal(response.status, 201);
    assert.equal(await t.app.services.mail.sendDueNow(), 1);
    const link = activationLink(sink.messages[0]?.raw ?? '');
    const token = link.pathname.split('/')[4] ?? '';
    assert.ok(token.length > 20);
    assert.ok(!t.logs.text().includes(token));
  });
});
