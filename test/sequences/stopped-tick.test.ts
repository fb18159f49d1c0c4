import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/database.js';
import { VariantSmtpServer } from './smtp-variants.js';
import { seedUsers, twoSteps } from './support.js';

/**
 * A run stopped mid-drain (timeout, shutdown, lost job lease): what reached
 * the mail server is recorded, what the tick had claimed but never handed to
 * the transport goes back to `queued` (not `sending`, which would end as
 * `unknown`), and the next run sends the rest, each exactly once.
 */
describe(`a stopped sequence-tick on ${testEngine()}`, () => {
  let t: TestApp;
  let smtp: VariantSmtpServer;
  const clock = new TestClock(Date.UTC(2026, 0, 1));
  const USERS = 12;

  before(async () => {
    smtp = await new VariantSmtpServer().start();
    t = await startTestApp({ clock, env: { SMTP_URL: smtp.url, SEQUENCE_SEND_CONCURRENCY: '1', SEQUENCE_BATCH_SIZE: '4' } });
  });
  after(async () => {
    await t.stop();
    await smtp.stop();
  });

  it('hands claimed sends that never went out back to queued; the next tick sends them once', async () => {
    const { sequences } = t.app.services;
    await sequences.create(twoSteps('halt'));
    await seedUsers(t.app, USERS, 'halt');
    for (let i = 0; i < USERS; i++) await sequences.enroll('halt', { email: `halt${i}@example.com` });
    const stop = new AbortController();
    const running = sequences.tickNow({ signal: stop.signal });
    // Event-bound: stop as soon as the first message reached the server.
    while (smtp.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    stop.abort();
    const first = await running;
    assert.ok((first.sent ?? 0) >= 1 && (first.sent ?? 0) < USERS, JSON.stringify(first));
    const states = await sequences.sendCounts();
    assert.equal(states.sending, 0, 'nothing left sending');
    assert.equal(states.unknown, 0);
    assert.equal(states.sent, first.sent);
    assert.ok(states.queued > 0, `claimed ahead and handed back: ${JSON.stringify(states)}`);

    const second = await sequences.tickNow();
    assert.equal((first.sent ?? 0) + (second.sent ?? 0), USERS, JSON.stringify(second));
    assert.equal(smtp.received.length, USERS);
    assert.equal(smtp.maxPerRecipientAndSubject(), 1, 'never two per (recipient, step)');
    const sends = await sequences.listSends({ state: 'sent', limit: 100 });
    assert.ok(sends.every((send) => send.attempts === 1), 'a handed-back claim is not counted as an attempt');
  });
});
