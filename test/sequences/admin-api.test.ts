import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { createUser, csrfHeaders, loggedInClient, type ErrorBody } from '../auth/support.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/database.js';
import type { HttpClient } from '../helpers/http.js';
import { VariantSmtpServer } from './smtp-variants.js';
import { seedLedger, seedUsers, twoSteps } from './support.js';

type Body = Record<string, unknown> & ErrorBody;

describe(`sequence admin API on ${testEngine()}`, () => {
  let smtp: VariantSmtpServer;
  let t: TestApp;
  let admin: HttpClient;
  const clock = new TestClock(Date.UTC(2026, 0, 1));

  before(async () => {
    smtp = await new VariantSmtpServer().start();
    t = await startTestApp({ clock, env: { SMTP_URL: smtp.url } });
    await createUser(t, { email: 'admin@example.com', password: 'admin-password-long', role: 'admin' });
    await createUser(t, { email: 'plain@example.com', password: 'plain-password-long' });
    await createUser(t, { email: 'ada@example.com', password: 'ada-password-long' });
    await createUser(t, { email: 'sleepy@example.com', password: 'sleepy-password-long', active: false });
    admin = await loggedInClient(t, 'admin@example.com', 'admin-password-long');
  });
  after(async () => {
    await t.stop();
    await smtp.stop();
  });

  const post = (path: string, json: unknown) => admin.post<Body>(path, { json, headers: csrfHeaders(admin) });

  it('refuses non-admins and bad input with 4xx and the one envelope, naming the field; nothing half-written', async () => {
    const plain = await loggedInClient(t, 'plain@example.com', 'plain-password-long');
    const forbidden = await plain.get<Body>('/api/v1/admin/sequences/');
    assert.equal(forbidden.status, 403);
    const cases: [unknown, RegExp][] = [
      [{ ...twoSteps('bad1'), steps: [] }, /^steps:/],
      [{ ...twoSteps('bad2'), steps: [{ delay: '3 weeks', subject: 's', text: 't' }] }, /^steps\[0\]\.delay:/],
      [{ ...twoSteps('bad3'), steps: [{ delay: '1d', subject: 'x'.repeat(201), text: 't' }] }, /^steps\[0\]\.subject:/],
      [{ ...twoSteps('bad4'), steps: [{ delay: '1d', subject: 's', text: 'Hi {{ password }}' }] }, /^steps\[0\]\.text: template error: unknown variable \{\{password\}\}/],
      [{ ...twoSteps('bad5'), steps: [{ delay: '1d', subject: 's', text: 't', html: '<p>{{ email </p>' }] }, /^steps\[0\]\.html: template error/],
      [{ ...twoSteps('bad6'), steps: [{ delay: '1d', subject: '{{ email | nosuchfilter }}', text: 't' }] }, /^steps\[0\]\.subject: template error/],
      [{ ...twoSteps('bad7'), steps: [{ delay: '1d', subject: 's', text: "{% include 'x' %}" }] }, /^steps\[0\]\.text: template error/],
      [{ ...twoSteps(), key: 'Not A Slug' }, /^key:/],
    ];
    for (const [body, message] of cases) {
      const response = await post('/api/v1/admin/sequences/', body);
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body.error.code, 'VALIDATION_FAILED');
      assert.match(response.body.error.message, message);
    }
    const list = await admin.get<{ sequences: unknown[] }>('/api/v1/admin/sequences/');
    assert.deepEqual(list.body.sequences, [], 'no refused sequence was written');
  });

  it('creates, lists with counts, gets, updates and refuses duplicates and unknown keys', async () => {
    const created = await post('/api/v1/admin/sequences/', twoSteps());
    assert.equal(created.status, 201, created.text);
    assert.deepEqual((created.body.steps as { delay: string }[]).map((s) => s.delay), ['0s', '1d']);
    const duplicate = await post('/api/v1/admin/sequences/', twoSteps());
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'SEQUENCE_EXISTS');
    const missing = await admin.get<Body>('/api/v1/admin/sequences/nope/');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'SEQUENCE_NOT_FOUND');

    const enrolled = await post('/api/v1/admin/sequences/welcome/enrollments/', { email: 'ada@example.com' });
    assert.equal(enrolled.status, 201, enrolled.text);
    const again = await post('/api/v1/admin/sequences/welcome/enrollments/', { email: 'ADA@example.com' });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, enrolled.body.id);
    const nobody = await post('/api/v1/admin/sequences/welcome/enrollments/', { email: 'ghost@example.com' });
    assert.equal(nobody.status, 404);
    assert.equal(nobody.body.error.code, 'USER_NOT_FOUND');
    const inactive = await post('/api/v1/admin/sequences/welcome/enrollments/', { email: 'sleepy@example.com' });
    assert.equal(inactive.status, 409);
    assert.equal(inactive.body.error.code, 'USER_NOT_ACTIVATED');
    const bothMissing = await post('/api/v1/admin/sequences/welcome/enrollments/', {});
    assert.equal(bothMissing.status, 400);

    const list = await admin.get<{ sequences: { key: string; counts: Record<string, number> }[] }>('/api/v1/admin/sequences/');
    assert.equal(list.body.sequences[0]?.counts.enrolled, 1);
    assert.equal(list.body.sequences[0]?.counts.due_now, 1);
    const enrollments = await admin.get<{ enrollments: { email: string; next_step: number; due_at: string }[] }>('/api/v1/admin/sequences/welcome/enrollments/');
    assert.equal(enrollments.body.enrollments[0]?.email, 'ada@example.com');
    assert.equal(enrollments.body.enrollments[0]?.next_step, 1);

    // Step 1 goes out; then editing the steps never re-sends it.
    assert.equal((await t.app.services.sequences.tickNow()).sent, 1);
    const edited = { name: 'Welcome (edited)', steps: [{ delay: '0s', subject: 'welcome step 1 v2', text: 'new text' }, { delay: '1h', subject: 'welcome step 2', text: 'two' }] };
    const put = await admin.request<Body>('PUT', '/api/v1/admin/sequences/welcome/', { json: edited, headers: csrfHeaders(admin) });
    assert.equal(put.status, 200, put.text);
    // The new delay applies to steps scheduled after the edit; this one was scheduled at step 1's send (1d).
    clock.advance(3_600_000);
    assert.equal((await t.app.services.sequences.tickNow()).sent, 0);
    clock.advance(86_400_000);
    const tick = await t.app.services.sequences.tickNow();
    assert.equal(tick.sent, 1);
    assert.deepEqual(smtp.received.map((m) => m.subject), ['welcome step 1', 'welcome step 2']);

    // HTML templates are escaped by default.
    admin = await loggedInClient(t, 'admin@example.com', 'admin-password-long');
    await post('/api/v1/admin/sequences/', { key: 'escape', name: 'E', steps: [{ delay: '0s', subject: 'x', text: 'x', html: '<b>{{ first_name }}</b>' }] });
    await t.app.services.storage.db.updateTable('users').set({ profile: JSON.stringify({ first_name: '<script>alert(1)</script>' }) }).where('email', '=', 'ada@example.com').execute();
    await post('/api/v1/admin/sequences/escape/enrollments/', { email: 'ada@example.com' });
    await t.app.services.sequences.tickNow();
    const html = smtp.received.find((m) => m.subject === 'x')?.raw ?? '';
    assert.ok(html.includes('&lt;script&gt;'), 'the name is escaped in HTML');
    assert.ok(!html.includes('<b><script>'), 'never raw');
  });

  it('stops an enrollment, deletes only with force, and lists and resolves sends', async () => {
    admin = await loggedInClient(t, 'admin@example.com', 'admin-password-long');
    await post('/api/v1/admin/sequences/', twoSteps('later', '1d'));
    const enrolled = await post('/api/v1/admin/sequences/later/enrollments/', { email: 'plain@example.com' });
    const refused = await admin.delete<Body>('/api/v1/admin/sequences/later/', { headers: csrfHeaders(admin) });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'SEQUENCE_HAS_ENROLLMENTS');
    const stopped = await admin.delete<Body>(`/api/v1/admin/sequences/later/enrollments/${String(enrolled.body.id)}/`, { headers: csrfHeaders(admin) });
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(stopped.body.status, 'stopped');
    const noSuch = await admin.delete<Body>('/api/v1/admin/sequences/later/enrollments/999999/', { headers: csrfHeaders(admin) });
    assert.equal(noSuch.body.error.code, 'ENROLLMENT_NOT_FOUND');
    const deleted = await admin.delete<Body>('/api/v1/admin/sequences/later/', { headers: csrfHeaders(admin) });
    assert.equal(deleted.status, 200);

    const sends = await admin.get<{ sends: { id: string; state: string; message_id: string }[] }>('/api/v1/admin/sends/?state=sent&sequence=welcome');
    assert.equal(sends.status, 200);
    assert.equal(sends.body.sends.length, 2);
    assert.match(sends.body.sends[0]?.message_id ?? '', new RegExp(`^<${sends.body.sends[0]?.id}@seq\\.`));
    const notUnknown = await post(`/api/v1/admin/sends/${sends.body.sends[0]?.id}/resolve/`, { outcome: 'sent' });
    assert.equal(notUnknown.status, 409);
    assert.equal(notUnknown.body.error.code, 'SEND_NOT_UNKNOWN');
    const badOutcome = await post(`/api/v1/admin/sends/${sends.body.sends[0]?.id}/resolve/`, { outcome: 'maybe' });
    assert.equal(badOutcome.status, 400);
    const badState = await admin.get<Body>('/api/v1/admin/sends/?state=lost');
    assert.equal(badState.status, 400);
  });

  it('sent_per_step is exact per step, past 1000 sends, and counts only sends in state sent', async () => {
    await t.app.services.sequences.create({
      key: 'funnel',
      name: 'Funnel',
      steps: [1, 2, 3].map((n) => ({ delay: `${n}d`, subject: `funnel ${n}`, text: 'x' })),
    });
    const users = await seedUsers(t.app, 1205, 'funnel');
    await seedLedger(t.app, 'funnel', users, [1205, 700], [
      { step: 2, state: 'failed', count: 5 },
      { step: 3, state: 'unknown', count: 3 },
      { step: 3, state: 'queued', count: 2 },
    ]);
    type Listed = { key: string; steps: unknown[]; counts: Record<string, number>; sent_per_step: number[] };
    const list = await admin.get<{ sequences: Listed[] }>('/api/v1/admin/sequences/');
    assert.equal(list.status, 200, list.text);
    const funnel = list.body.sequences.find((s) => s.key === 'funnel');
    assert.deepEqual(funnel?.sent_per_step, [1205, 700, 0]);
    assert.equal(funnel?.counts.sent, 1905);
    assert.equal(funnel?.counts.failed, 5);
    assert.equal(funnel?.counts.unknown, 3);
    for (const sequence of list.body.sequences) assert.equal(sequence.sent_per_step.length, sequence.steps.length, `${sequence.key}: one entry per step`);
    const one = await admin.get<Listed>('/api/v1/admin/sequences/funnel/');
    assert.deepEqual(one.body.sent_per_step, [1205, 700, 0]);

    // Dropping step 3 drops its entry; the totals still count every send.
    await t.app.services.sequences.update('funnel', { name: 'Funnel', steps: [1, 2].map((n) => ({ delay: `${n}d`, subject: `funnel ${n}`, text: 'x' })) });
    const shorter = await admin.get<Listed>('/api/v1/admin/sequences/funnel/');
    assert.deepEqual(shorter.body.sent_per_step, [1205, 700]);
  });

  it('takes ?limit= and ?offset= from the query string (bug: every ?limit= answered 400, "must be integer")', async () => {
    assert.equal((await admin.get<Body>('/api/v1/admin/sends/?limit=5')).status, 200);
    assert.equal((await admin.get<Body>('/api/v1/admin/sends/?state=unknown&source=outbox&limit=5')).status, 200);
    for (const bad of ['0', '1001', 'x', '-1']) assert.equal((await admin.get<Body>(`/api/v1/admin/sends/?limit=${bad}`)).status, 400, bad);
    await post('/api/v1/admin/sequences/', twoSteps('paged'));
    assert.equal((await admin.get<Body>('/api/v1/admin/sequences/paged/enrollments/?limit=2&offset=1')).status, 200);
  });
});
