import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { SequenceSendsRepository } from '../../src/db/repositories/sequence-sends.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/database.js';
import { HttpClient } from '../helpers/http.js';
import { activationLink } from '../mail/smtp-sink.js';
import { SECRET } from '../triggers/helpers.js';
import { VariantSmtpServer } from './smtp-variants.js';
import { seedUsers, twoSteps } from './support.js';

function unsubscribePath(raw: string): string {
  const match = /List-Unsubscribe: <https?:\/\/[^/]+(\/api\/v1\/unsubscribe\/[^>]+)>/.exec(raw);
  assert.ok(match, 'the message carries List-Unsubscribe');
  return match[1] ?? '';
}

describe(`unsubscribe, auto-enrollment and the tick's counts on ${testEngine()}`, () => {
  let smtp: VariantSmtpServer;
  let t: TestApp;
  let http: HttpClient;
  const clock = new TestClock(Date.UTC(2026, 0, 1));

  before(async () => {
    smtp = await new VariantSmtpServer().start();
    t = await startTestApp({ clock, env: { SMTP_URL: smtp.url, CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000' } });
    http = new HttpClient(t.url);
  });
  after(async () => {
    await t.stop();
    await smtp.stop();
  });

  it('activation enrolls into DEFAULT_SEQUENCE_KEY (default_outreach) only when it names an active sequence', async () => {
    const { accounts, mail, sequences } = t.app.services;
    await accounts.register({ email: 'early@example.com', password: 'early-password-long', profile: { type: 'worker' } });
    await mail.sendDueNow();
    await accounts.activate(activationLink(smtp.received.at(-1)?.raw ?? '').pathname.split('/')[4] ?? '');
    assert.equal((await sequences.list()).length, 0, 'no sequence, nothing happens');
    assert.ok(!t.logs.text().includes('"level":50'), 'and nothing is logged as an error');

    await sequences.create(twoSteps('default_outreach'));
    await accounts.register({ email: 'late@example.com', password: 'late-password-long', profile: { type: 'worker', first_name: 'Lee' } });
    await mail.sendDueNow();
    await accounts.activate(activationLink(smtp.received.at(-1)?.raw ?? '').pathname.split('/')[4] ?? '');
    const view = await sequences.get('default_outreach');
    assert.equal(view.counts.enrolled, 1);
    assert.equal((await sequences.listEnrollments('default_outreach', 10, 0))[0]?.email, 'late@example.com');
  });

  it('GET shows a confirm page and changes nothing; POST unsubscribes without auth or CSRF; the token survives key rotation', async () => {
    await t.app.services.sequences.tickNow();
    const message = smtp.received.find((m) => m.to === 'late@example.com' && m.subject === 'default_outreach step 1');
    assert.ok(message);
    const path = unsubscribePath(message.headers);
    const page = await http.get(path);
    assert.equal(page.status, 200);
    assert.match(page.text, /<form method="post">/);
    assert.equal((await t.app.services.sequences.get('default_outreach')).counts.unsubscribed, 0, 'GET changed nothing');

    const forged = await http.post<{ error: { code: string } }>(path.replace(/\.[A-Za-z0-9_-]{22}\/$/, '.AAAAAAAAAAAAAAAAAAAAAA/'), { form: { 'List-Unsubscribe': 'One-Click' } });
    assert.equal(forged.status, 404);
    assert.equal(forged.body.error.code, 'UNSUBSCRIBE_INVALID');

    await t.app.services.auth.keys.rotate();
    const done = await http.post(path, { form: { 'List-Unsubscribe': 'One-Click' }, cookies: false });
    assert.equal(done.status, 200, done.text);
    assert.equal(await t.app.services.sequences.suppressionList.reason('late@example.com'), 'unsubscribe');
    const again = await http.post(path, { form: { 'List-Unsubscribe': 'One-Click' } });
    assert.equal(again.status, 200, 'idempotent');
    clock.advance(86_400_000);
    const tick = await t.app.services.sequences.tickNow();
    assert.equal(tick.sent, 0, 'no further sequence mail');
    assert.ok(!smtp.received.some((m) => m.subject === 'default_outreach step 2'));
  });

  it('an unsubscribe that lands between queueing and sending is honoured by the re-check', async () => {
    const { sequences } = t.app.services;
    await sequences.create(twoSteps('race'));
    await seedUsers(t.app, 40, 'race');
    for (let i = 0; i < 40; i++) await sequences.enroll('race', { email: `race${i}@example.com` });
    // Queue the step, then unsubscribe one recipient, then deliver.
    await new SequenceSendsRepository(t.app.services.storage).enqueueDue(clock.now(), 1000);
    const victim = await t.app.services.users.findByEmail('race0@example.com');
    assert.ok(victim);
    const before = smtp.received.length;
    await t.app.services.storage.db.insertInto('mail_suppressions').values({ email: 'race0@example.com', reason: 'unsubscribe', created_at: clock.now() }).execute();
    const counts = await sequences.tickNow();
    assert.equal(counts.skipped, 1, JSON.stringify(counts));
    assert.equal(counts.skipped_unsubscribed, 1);
    assert.equal(counts.sent, 39);
    assert.ok(!smtp.received.slice(before).some((m) => m.to === 'race0@example.com'));

    // Unsubscribes racing a tick over HTTP: whoever wins, never two messages, and nothing after.
    clock.advance(86_400_000);
    const tokens = await Promise.all(
      Array.from({ length: 39 }, async (_, i) => {
        const sent = smtp.received.find((m) => m.to === `race${i + 1}@example.com`);
        return unsubscribePath(sent?.headers ?? '');
      }),
    );
    const [tick] = await Promise.all([sequences.tickNow(), ...tokens.map((path) => http.post(path, { form: { 'List-Unsubscribe': 'One-Click' } }))]);
    assert.equal((tick.sent ?? 0) + (tick.skipped ?? 0), tick.processed);
    clock.advance(7 * 86_400_000);
    assert.equal((await sequences.tickNow()).sent, 0);
    assert.equal(smtp.maxPerRecipientAndSubject(), 1, 'never two per (recipient, step)');
  });

  it('/cron/run reports the tick counts per job; /cron/status and /metrics show the backlog', async () => {
    const { sequences } = t.app.services;
    await sequences.create(twoSteps('counted'));
    await seedUsers(t.app, 3, 'counted');
    for (let i = 0; i < 3; i++) await sequences.enroll('counted', { email: `counted${i}@example.com` });
    clock.advance(60_000);
    const status = await http.get<{ backlog: { due: number; oldest_due_at: string | null }; unknown_sends: { sequence: number } }>('/cron/status', { headers: { authorization: `Bearer ${SECRET}` } });
    assert.equal(status.status, 200, status.text);
    assert.equal(status.body.backlog.due, 3);
    assert.equal(status.body.backlog.oldest_due_at, new Date(clock.now() - 60_000).toISOString());
    const metrics = await http.get('/metrics');
    assert.match(metrics.text, /curfew_sequence_backlog 3/);
    assert.match(metrics.text, /curfew_sequence_oldest_due_seconds 60/);

    const run = await http.post<{ ok: boolean; data: { runs: { job: string; counts: Record<string, number> }[] } }>('/cron/run', { headers: { authorization: `Bearer ${SECRET}` } });
    assert.equal(run.status, 200, run.text);
    const tick = run.body.data.runs.find((r) => r.job === 'sequence-tick');
    assert.ok(tick, run.text);
    for (const name of ['processed', 'queued', 'sent', 'skipped', 'failed', 'unknown']) assert.equal(typeof tick.counts[name], 'number', name);
    assert.equal(tick.counts.sent, 3);
    const ledger = await t.app.services.storage.db.selectFrom('cron_runs').select('counts').where('job', '=', 'sequence-tick').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal((JSON.parse(ledger.counts) as Record<string, number>).sent, 3);
  });
});

describe(`EMAIL_SENDING_ENABLED=false and dry runs on ${testEngine()}`, () => {
  let smtp: VariantSmtpServer;
  let t: TestApp;

  before(async () => {
    smtp = await new VariantSmtpServer().start();
    t = await startTestApp({ env: { SMTP_URL: smtp.url, EMAIL_SENDING_ENABLED: 'false' } });
  });
  after(async () => {
    await t.stop();
    await smtp.stop();
  });

  it('counts due steps as skipped with the reason and queues nothing; a dry run says what would go', async () => {
    const { sequences, jobs } = t.app.services;
    await sequences.create(twoSteps());
    await seedUsers(t.app, 2);
    for (let i = 0; i < 2; i++) await sequences.enroll('welcome', { email: `u${i}@example.com` });
    const summary = await jobs.runJob('sequence-tick', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(summary.counts.skipped, 2, JSON.stringify(summary));
    assert.equal(summary.counts.skipped_sending_disabled, 2);
    assert.equal(summary.counts.queued, 0);
    const dry = await jobs.runJob('sequence-tick', { dryRun: true, trigger: 'cli', caller: {} });
    assert.equal(dry.counts.would_send, 2, JSON.stringify(dry));
    assert.deepEqual((await sequences.preview()).map((p) => p.email).sort(), ['u0@example.com', 'u1@example.com']);
    assert.equal(smtp.received.length, 0);
    assert.equal((await sequences.sendCounts()).queued, 0);
  });
});
