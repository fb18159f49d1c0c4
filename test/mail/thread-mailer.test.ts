import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { describeMailError } from '../../src/mail/describe-error.js';
import { DeliveryError, type OutgoingMail } from '../../src/mail/mailer.js';
import { createThreadMailer } from '../../src/mail/thread-mailer.js';
import { VariantSmtpServer } from '../sequences/smtp-variants.js';

const mail = (to: string, n = 1): OutgoingMail => ({
  from: 'curfew <no-reply@example.com>',
  to,
  subject: `thread ${n}`,
  text: 'hello',
  html: '<p>hello</p>',
  messageId: `<${n}@seq.example.com>`,
  headers: { 'List-Unsubscribe': '<https://example.com/u/1/>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
});

async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DeliveryError, String(error));
    return error;
  }
  assert.fail('the send resolved');
}

/** The SMTP pool in a worker thread answers, and classifies failures, as the in-thread one does. */
describe('createThreadMailer against a real smtp-server', () => {
  let smtp: VariantSmtpServer;

  before(async () => {
    smtp = await new VariantSmtpServer().start();
  });
  after(async () => {
    await smtp.stop();
  });
  beforeEach(() => {
    smtp.received.length = 0;
    smtp.behaviour = { kind: 'accept' };
  });

  it('delivers with the Message-ID and headers given; close is idempotent', async () => {
    const mailer = createThreadMailer({ url: smtp.url, maxConnections: 2 });
    await Promise.all([mailer.send(mail('a@example.com', 1)), mailer.send(mail('b@example.com', 2))]);
    assert.deepEqual(smtp.received.map((m) => m.to).sort(), ['a@example.com', 'b@example.com']);
    const first = smtp.received.find((m) => m.to === 'a@example.com');
    assert.equal(first?.messageId, '<1@seq.example.com>');
    assert.match(first?.headers ?? '', /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
    await mailer.close();
    await mailer.close();
    assert.equal((await rejection(mailer.send(mail('c@example.com', 3)))).outcome, 'retry');
  });

  it('a 550 is failed with its reply code; a drop after DATA is unknown', async () => {
    const mailer = createThreadMailer({ url: smtp.url, timeoutMs: 2000 });
    try {
      smtp.behaviour = { kind: 'reject', recipient: 'gone@example.com' };
      const refused = await rejection(mailer.send(mail('gone@example.com')));
      assert.equal(refused.outcome, 'failed');
      assert.equal(refused.responseCode, 550);
      assert.match(describeMailError(refused), /550/);
      smtp.behaviour = { kind: 'drop-after-data' };
      assert.equal((await rejection(mailer.send(mail('x@example.com', 2)))).outcome, 'unknown');
    } finally {
      await mailer.close();
    }
  });

  it('a mail in flight when the thread ends is unknown, never retry', async () => {
    const mailer = createThreadMailer({ url: smtp.url, timeoutMs: 60_000 });
    smtp.behaviour = { kind: 'stall' };
    const sending = rejection(mailer.send(mail('stalled@example.com')));
    while (smtp.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await mailer.close();
    assert.equal((await sending).outcome, 'unknown');
  });
});
