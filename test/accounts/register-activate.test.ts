import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { activationLink, SmtpSink } from '../mail/smtp-sink.js';

interface ErrorBody {
  error: { code: string; message: string };
}
interface UserBody {
  message: string;
  user: { id: number; email: string; role: string; is_active: boolean; profile: Record<string, unknown> };
}

const PROFILE = { type: 'worker', first_name: 'Роман', last_name: 'Романов', birth_date: '2000-08-25T12:00:00+03:00', sex: 'male' };

describe('register → activation mail over SMTP → activate', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let http: HttpClient;
  const clock = new TestClock(Date.UTC(2026, 2, 1, 12));
  const secrets: string[] = [];

  before(async () => {
    sink = await new SmtpSink().start();
    t = await startTestApp({ env: { SMTP_URL: sink.url }, clock, background: true });
    http = new HttpClient(t.url);
  });
  after(async () => {
    await t.stop();
    await sink.stop();
  });

  async function registerAndReceive(email: string): Promise<URL> {
    const password = `pw-${email}-secret`;
    secrets.push(password);
    const response = await http.post<UserBody>('/api/v1/register/', { json: { email, password, profile: PROFILE } });
    assert.equal(response.status, 201, response.text);
    const mail = await sink.waitForRecipient(email);
    const link = activationLink(mail.raw);
    secrets.push(link.pathname.split('/')[4] ?? '');
    return link;
  }

  it('delivers the activation mail through the background sender, and the link works exactly once', async () => {
    const password = 'ghbdtn007-long-enough';
    secrets.push(password);
    const response = await http.post<UserBody>('/api/v1/register/', {
      json: { email: '  Some@Email.EE ', password, profile: PROFILE },
    });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.user.email, 'some@email.ee');
    assert.equal(response.body.user.is_active, false);
    assert.equal(response.body.user.role, 'user');
    assert.deepEqual(response.body.user.profile, { ...PROFILE, birth_date: '2000-08-25' });
    assert.ok(!response.text.includes('argon2'), 'the response never carries the hash');

    // No sendDueNow: the sender woken after the commit delivers it.
    await sink.waitForCount(1);
    const mail = sink.messages[0];
    assert.ok(mail);
    assert.deepEqual(mail.to, ['some@email.ee']);
    assert.match(mail.raw, /Subject: Activate your account/);
    const link = activationLink(mail.raw);
    assert.equal(link.origin, new URL(t.app.config.publicUrl).origin);
    secrets.push(link.pathname.split('/')[4] ?? '');

    const activated = await http.get<UserBody>(link.pathname);
    assert.equal(activated.status, 200, activated.text);
    assert.equal(activated.body.user.is_active, true);
    const row = await t.app.services.users.findByEmail('some@email.ee');
    assert.equal(row?.activated_at, clock.now());

    const again = await http.get<ErrorBody>(link.pathname);
    assert.equal(again.status, 400);
    assert.equal(again.body.error.code, 'ACTIVATION_INVALID');
    // Without the trailing slash too.
    const noSlash = await http.get<ErrorBody>(link.pathname.replace(/\/$/, ''));
    assert.equal(noSlash.body.error.code, 'ACTIVATION_INVALID');

    const outbox = await t.app.services.storage.db.selectFrom('mail_outbox').selectAll().execute();
    assert.equal(outbox.length, 1);
    assert.equal(outbox[0]?.status, 'sent');
    assert.equal(outbox[0]?.sent_at, clock.now());
    assert.equal(outbox[0]?.text, '', 'the body (with the token) is gone once sent');
    assert.equal(outbox[0]?.html, null);
  });

  it('accepts multipart and urlencoded forms with the profile as JSON text', async () => {
    const multipart = await http.post<UserBody>('/api/v1/register/', {
      multipart: { email: 'multi@example.com', password: 'violet harbour lantern 2031', profile: JSON.stringify(PROFILE) },
    });
    assert.equal(multipart.status, 201, multipart.text);
    assert.equal(multipart.body.user.profile.first_name, 'Роман');
    const form = await http.post<UserBody>('/api/v1/register', {
      form: { email: 'form@example.com', password: 'violet harbour lantern 2031', profile: JSON.stringify({ type: 'organization' }) },
    });
    assert.equal(form.status, 201, form.text);
    assert.deepEqual(form.body.user.profile, { type: 'organization' });
    await sink.waitForCount(3);
  });

  it('answers 409 EMAIL_TAKEN for a taken address in any case, and a race yields one account', async () => {
    const taken = await http.post<ErrorBody>('/api/v1/register/', {
      json: { email: 'MULTI@example.com ', password: 'violet harbour lantern 2031', profile: PROFILE },
    });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, 'EMAIL_TAKEN');

    const outboxBefore = await t.app.services.storage.db.selectFrom('mail_outbox').select('id').execute();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        http.post<ErrorBody>('/api/v1/register/', { json: { email: 'race@example.com', password: 'violet harbour lantern 2031', profile: PROFILE } }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
    const db = t.app.services.storage.db;
    const users = await db.selectFrom('users').select('id').where('email', '=', 'race@example.com').execute();
    assert.equal(users.length, 1);
    const tokens = await db.selectFrom('activation_tokens').select('id').where('user_id', '=', users[0]?.id ?? -1).execute();
    assert.equal(tokens.length, 1);
    const outboxAfter = await db.selectFrom('mail_outbox').select('id').execute();
    assert.equal(outboxAfter.length, outboxBefore.length + 1, 'the losers left no mail behind');
  });

  it('stores only a hash of the token', async () => {
    const link = await registerAndReceive('hash@example.com');
    const token = link.pathname.split('/')[4] ?? '';
    const rows = await t.app.services.storage.db.selectFrom('activation_tokens').select('token_hash').execute();
    assert.ok(rows.length > 0);
    for (const row of rows) {
      assert.match(row.token_hash, /^[0-9a-f]{64}$/);
      assert.notEqual(row.token_hash, token);
    }
  });

  it('refuses an expired link with 410 and keeps the account inactive', async () => {
    const link = await registerAndReceive('late@example.com');
    clock.advance(t.app.config.auth.activationTtlMs);
    const expired = await http.get<ErrorBody>(link.pathname);
    assert.equal(expired.status, 410);
    assert.equal(expired.body.error.code, 'ACTIVATION_EXPIRED');
    const row = await t.app.services.users.findByEmail('late@example.com');
    assert.equal(row?.activated_at, null);
  });

  it('lets exactly one of several concurrent activations win', async () => {
    const link = await registerAndReceive('twice@example.com');
    const results = await Promise.all(Array.from({ length: 5 }, () => http.get<ErrorBody>(link.pathname)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 400, 400, 400, 400]);
  });

  it('never writes a password or an activation token to the log', () => {
    const logs = t.logs.text();
    assert.ok(logs.includes('activation mail queued'), 'the log was captured');
    assert.ok(logs.includes('/api/v1/activate/[REDACTED]'), 'activation requests are logged, redacted');
    for (const secret of secrets) {
      assert.ok(secret.length > 8);
      assert.ok(!logs.includes(secret), `log contains a secret: ${secret.slice(0, 4)}…`);
    }
  });
});
