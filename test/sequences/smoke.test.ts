import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/database.js';
import { VariantSmtpServer } from './smtp-variants.js';
import { seedUsers, twoSteps } from './support.js';

describe(`sequence mail basics on ${testEngine()}`, () => {
  let t: TestApp;
  let smtp: VariantSmtpServer;
  const clock = new TestClock(Date.UTC(2026, 0, 1));

  before(async () => {
    smtp = await new VariantSmtpServer().start();
    t = await startTestApp({ clock, env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://app.example.com' } });
  });
  after(async () => {
    await t.stop();
    await smtp.stop();
  });

  it('sends step 1 at once and step 2 after its delay, each exactly once, with RFC 8058 headers', async () => {
    const { sequences } = t.app.services;
    await sequences.create(twoSteps());
    const [id] = await seedUsers(t.app, 3);
    for (let i = 0; i < 3; i++) await sequences.enroll('welcome', { email: `u${i}@example.com` });
    const first = await sequences.tickNow();
    assert.equal(first.sent, 3, JSON.stringify(first));
    assert.equal(first.queued, 3);
    const again = await sequences.tickNow();
    assert.equal(again.sent, 0, 'nothing is due before step 2 delay');
    clock.advance(86_400_000);
    const second = await sequences.tickNow();
    assert.equal(second.sent, 3, JSON.stringify(second));
    assert.equal(smtp.received.length, 6);
    assert.equal(smtp.maxPerRecipientAndSubject(), 1);
    const message = smtp.received.find((m) => m.to === 'u0@example.com' && m.subject === 'welcome step 1');
    assert.ok(message);
    assert.match(message.headers, new RegExp(`List-Unsubscribe: <https://app.example.com/api/v1/unsubscribe/${id}\\.[A-Za-z0-9_-]{22}/>`));
    assert.match(message.headers, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
    assert.match(message.messageId, /^<\d+@seq\.app\.example\.com>$/);
    assert.match(message.raw, /Hello First0!/);
    const view = await sequences.get('welcome');
    assert.equal(view.counts.sent, 6);
    assert.equal(view.counts.completed, 3);
  });
});
