import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, testEngine, type TestDatabase } from '../helpers/database.js';
import { SmtpSink } from './smtp-sink.js';

const MESSAGES = 60;

describe(`two mail senders on one ${testEngine()} database`, () => {
  let database: TestDatabase;
  let sink: SmtpSink;
  let a: TestApp;
  let b: TestApp;

  before(async () => {
    database = await createTestDatabase();
    sink = await new SmtpSink().start();
    a = await startTestApp({ database, env: { SMTP_URL: sink.url } });
    b = await startTestApp({ database, env: { SMTP_URL: sink.url } });
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await sink.stop();
    await database.drop();
  });

  it('never deliver one row twice', async () => {
    assert.notEqual(a.app.config.scheduler.instanceId, b.app.config.scheduler.instanceId);
    for (let i = 0; i < MESSAGES; i++) {
      await a.app.services.mail.enqueue({ to: `r${i}@example.com`, subject: `message ${i}`, text: `body ${i}` });
    }
    // Both instances drain the same outbox at the same time, several rounds each.
    const counts = await Promise.all(
      [a, b, a, b, a, b].map((t) => t.app.services.mail.sendDueNow()),
    );
    assert.equal(counts.reduce((sum, n) => sum + n, 0), MESSAGES, `per caller: ${counts.join(', ')}`);
    assert.equal(sink.messages.length, MESSAGES);
    const recipients = sink.messages.flatMap((message) => message.to).sort();
    assert.equal(new Set(recipients).size, MESSAGES, 'each recipient got exactly one message');

    const rows = await a.app.services.storage.db.selectFrom('mail_outbox').select(['status', 'attempts']).execute();
    assert.equal(rows.length, MESSAGES);
    for (const row of rows) {
      assert.equal(row.status, 'sent');
      assert.equal(row.attempts, 1, 'no row was claimed twice');
    }
  });
});
