import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../helpers/http.js';
import { activeUser, csrf, linkPath, login, mailsTo, nthMail, resetToken, settleMail, startHarness, STRONG, STRONGER, STRONGEST, type ErrorBody, type LifecycleHarness } from './support.js';

const PROFILE = { type: 'worker' };

describe('resend activation and password reset, end to end over HTTP and SMTP', () => {
  let h: LifecycleHarness;
  let http: HttpClient;
  const secrets: string[] = [];

  before(async () => {
    h = await startHarness();
    http = new HttpClient(h.t.url);
  });
  after(async () => {
    await h.stop();
  });

  /** Waits for deferred work and the outbox, so "no mail" can be asserted. */
  const settle = () => settleMail(h);

  it('resend: a new link works, the old one stops working', async () => {
    const email = 'late.activator@example.com';
    const registered = await http.post('/api/v1/register/', { json: { email, password: STRONG, profile: PROFILE } });
    assert.equal(registered.status, 201, registered.text);
    const oldLink = linkPath(await nthMail(h.sink, email, 1), 'activate');

    const resend = await http.post('/api/v1/activate/resend/', { json: { email } });
    assert.equal(resend.status, 202, resend.text);
    const newLink = linkPath(await nthMail(h.sink, email, 2), 'activate');
    assert.notEqual(newLink, oldLink);
    secrets.push(oldLink.split('/')[4] ?? '', newLink.split('/')[4] ?? '');

    const old = await http.get<ErrorBody>(oldLink);
    assert.equal(old.status, 400);
    assert.equal(old.body.error.code, 'ACTIVATION_INVALID');
    const fresh = await http.get(newLink);
    assert.equal(fresh.status, 200, fresh.text);
    await login(h.t, email);
  });

  it('resend and reset answer identically for an existing, an active and an unknown address', async () => {
    await activeUser(h.t, 'known@example.com');
    await http.post('/api/v1/register/', { json: { email: 'pending@example.com', password: STRONG, profile: PROFILE } });
    for (const path of ['/api/v1/activate/resend/', '/api/v1/password/reset/']) {
      const answers = [];
      for (const email of ['known@example.com', 'pending@example.com', 'nobody@example.com']) {
        const response = await http.post(path, { json: { email } });
        answers.push({ status: response.status, body: response.text, type: response.headers.get('content-type'), length: response.headers.get('content-length') });
      }
      assert.equal(answers[0]?.status, 202);
      assert.deepEqual(answers[1], answers[0], `${path}: pending vs known`);
      assert.deepEqual(answers[2], answers[0], `${path}: unknown vs known`);
    }
    await settle();
    assert.equal(mailsTo(h.sink, 'nobody@example.com').length, 0, 'no mail to an address without an account');
    // known: one reset mail (no activation, it is active); pending: registration + resend mails (no reset, it cannot sign in).
    assert.equal(mailsTo(h.sink, 'known@example.com').length, 1);
    assert.match(await nthMail(h.sink, 'known@example.com', 1), /Subject: Reset your password/);
    assert.equal(mailsTo(h.sink, 'pending@example.com').length, 2);
  });

  it('a malformed address is a 400 for everyone, naming the field', async () => {
    const response = await http.post<ErrorBody>('/api/v1/password/reset/', { json: { email: 'not-an-address' } });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'VALIDATION_FAILED');
    assert.match(response.body.error.message, /email/);
  });

  it('reset: the mailed token sets the password once and ends every session', async () => {
    const email = 'forgetful@example.com';
    await activeUser(h.t, email);
    const phone = await login(h.t, email);
    const laptop = await login(h.t, email);
    assert.equal((await http.post('/api/v1/password/reset/', { json: { email } })).status, 202);
    const token = resetToken(await nthMail(h.sink, email, 1));
    secrets.push(token);
    const rows = await h.t.app.services.storage.db.selectFrom('account_tokens').select('token_hash').execute();
    assert.ok(rows.every((row) => row.token_hash !== token && /^[0-9a-f]{64}$/.test(row.token_hash)), 'only a hash is stored');

    const confirm = await http.post('/api/v1/password/reset/confirm/', { json: { token, password: STRONGER } });
    assert.equal(confirm.status, 200, confirm.text);
    for (const client of [phone, laptop]) {
      assert.equal((await client.get('/api/v1/me/')).status, 401, 'the access token dies');
      assert.equal((await client.post('/api/v1/login/refresh/')).status, 401, 'the refresh token dies');
    }
    h.clock.advance(1000);
    assert.equal((await new HttpClient(h.t.url).post('/api/v1/login/', { json: { email, password: STRONG } })).status, 401, 'the old password is gone');
    await login(h.t, email, STRONGER);
    assert.match(await nthMail(h.sink, email, 2), /Subject: Your password was changed/);

    const again = await http.post<ErrorBody>('/api/v1/password/reset/confirm/', { json: { token, password: STRONGEST } });
    assert.equal(again.status, 400, 'a used token');
    assert.equal(again.body.error.code, 'RESET_TOKEN_INVALID');
  });

  it('reset: an expired, a tampered, a replaced and an activation token are refused', async () => {
    const email = 'careful@example.com';
    await activeUser(h.t, email);
    await http.post('/api/v1/password/reset/', { json: { email } });
    const first = resetToken(await nthMail(h.sink, email, 1));
    await http.post('/api/v1/password/reset/', { json: { email } });
    const second = resetToken(await nthMail(h.sink, email, 2));
    secrets.push(first, second);

    const replaced = await http.post<ErrorBody>('/api/v1/password/reset/confirm/', { json: { token: first, password: STRONGER } });
    assert.equal(replaced.body.error.code, 'RESET_TOKEN_INVALID', 'a newer link replaces the older');
    const flipped = `${second.slice(0, 20)}${second[20] === 'A' ? 'B' : 'A'}${second.slice(21)}`;
    const tampered = await http.post<ErrorBody>('/api/v1/password/reset/confirm/', { json: { token: flipped, password: STRONGER } });
    assert.equal(tampered.status, 400);
    assert.equal(tampered.body.error.code, 'RESET_TOKEN_INVALID');
    const garbage = await http.post<ErrorBody>('/api/v1/password/reset/confirm/', { json: { token: 'x', password: STRONGER } });
    assert.equal(garbage.body.error.code, 'RESET_TOKEN_INVALID');

    await http.post('/api/v1/register/', { json: { email: 'other.kind@example.com', password: STRONG, profile: PROFILE } });
    const activation = linkPath(await nthMail(h.sink, 'other.kind@example.com', 1), 'activate').split('/')[4] ?? '';
    const wrongKind = await http.post<ErrorBody>('/api/v1/password/reset/confirm/', { json: { token: activation, password: STRONGER } });
    assert.equal(wrongKind.body.error.code, 'RESET_TOKEN_INVALID', 'an activation token is not a reset token');

    const weak = await http.post<ErrorBody>('/api/v1/password/reset/confirm/', { json: { token: second, password: 'password1' } });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'PASSWORD_TOO_WEAK');
    assert.match(weak.body.error.message, /strength rule/);

    await settleMail(h);
    h.clock.advance(h.t.app.config.accounts.passwordResetTtlMs);
    const expired = await http.post<ErrorBody>('/api/v1/password/reset/confirm/', { json: { token: second, password: STRONGER } });
    assert.equal(expired.status, 410, 'a weak password did not burn the token; time did');
    assert.equal(expired.body.error.code, 'RESET_TOKEN_EXPIRED');
    h.clock.advance(1000);
    await login(h.t, email, STRONG);
  });

  it("reset: a token changes only its own user's password (another user's token cannot touch mine)", async () => {
    await activeUser(h.t, 'ann.reset@example.com');
    await activeUser(h.t, 'ben.reset@example.com');
    const ben = await login(h.t, 'ben.reset@example.com');
    await http.post('/api/v1/password/reset/', { json: { email: 'ann.reset@example.com' } });
    const annToken = resetToken(await nthMail(h.sink, 'ann.reset@example.com', 1));
    secrets.push(annToken);
    // Ben, signed in, presents Ann's token: it resets Ann's password, never Ben's.
    const confirm = await ben.post<{ user: { email: string } }>('/api/v1/password/reset/confirm/', { json: { token: annToken, password: STRONGER }, headers: csrf(ben) });
    assert.equal(confirm.status, 200, confirm.text);
    assert.equal(confirm.body.user.email, 'ann.reset@example.com');
    assert.equal((await ben.get('/api/v1/me/')).status, 200, "Ben's session survives");
    h.clock.advance(1000);
    await login(h.t, 'ben.reset@example.com', STRONG);
    await login(h.t, 'ann.reset@example.com', STRONGER);
  });

  it('never writes a reset or activation token, or a password, to the log', async () => {
    await settle();
    const logs = h.t.logs.text();
    assert.ok(logs.includes('password reset mail queued'), 'the log was captured');
    for (const secret of [...secrets, STRONG, STRONGER]) {
      assert.ok(secret.length > 8);
      assert.ok(!logs.includes(secret), `log contains a secret: ${secret.slice(0, 4)}…`);
    }
  });
});

describe('resend and reset throttling, per address and per IP', () => {
  let h: LifecycleHarness;
  before(async () => {
    h = await startHarness({ ACCOUNT_MAIL_ADDRESS_MAX: '2', ACCOUNT_MAIL_IP_MAX: '5', ACCOUNT_MAIL_WINDOW: '600' });
  });
  after(async () => {
    await h.stop();
  });

  it('refuses the third request for one address (known or not) with 429 and Retry-After, until the window ends', async () => {
    const http = new HttpClient(h.t.url);
    await activeUser(h.t, 'spammed@example.com');
    for (const email of ['spammed@example.com', 'ghost@example.com']) {
      assert.equal((await http.post('/api/v1/password/reset/', { json: { email } })).status, 202);
      assert.equal((await http.post('/api/v1/password/reset/', { json: { email } })).status, 202);
      const third = await http.post<ErrorBody>('/api/v1/password/reset/', { json: { email } });
      assert.equal(third.status, 429, email);
      assert.equal(third.body.error.code, 'RATE_LIMITED');
      assert.equal(third.headers.get('retry-after'), '600');
    }
    // 6 requests from this IP so far: the IP limit (5) is reached whatever the address.
    const other = await http.post<ErrorBody>('/api/v1/activate/resend/', { json: { email: 'fresh@example.com' } });
    assert.equal(other.status, 202, 'resend is counted apart from reset');
    // Delivered before time moves, or the outbox's 5-minute claim would lapse mid-send and send again.
    await settleMail(h);
    h.clock.advance(600_000);
    assert.equal((await http.post('/api/v1/password/reset/', { json: { email: 'spammed@example.com' } })).status, 202, 'a new window');
    await settleMail(h);
    assert.equal(mailsTo(h.sink, 'spammed@example.com').length, 3, 'refused requests sent nothing');
  });

  it('limits one IP across addresses', async () => {
    const http = new HttpClient(h.t.url);
    await settleMail(h);
    h.clock.advance(600_000);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await http.post('/api/v1/activate/resend/', { json: { email: `many${i}@example.com` } })).status);
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429, 429]);
  });
});
