import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../helpers/http.js';
import { activeUser, csrf, linkPath, login, mailsTo, nthMail, settleMail, startHarness, STRONG, STRONGER, type ErrorBody, type LifecycleHarness } from './support.js';

describe('change password, change e-mail, delete account: signed in, CSRF, over HTTP and SMTP', () => {
  let h: LifecycleHarness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('change password: needs CSRF and the current password, keeps this session, ends the others', async () => {
    const email = 'changer@example.com';
    await activeUser(h.t, email);
    const here = await login(h.t, email);
    const elsewhere = await login(h.t, email);
    const body = { current_password: STRONG, new_password: STRONGER };

    const noCsrf = await here.post<ErrorBody>('/api/v1/password/change/', { json: body });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.code, 'CSRF_FAILED');
    const anonymous = await new HttpClient(h.t.url).post<ErrorBody>('/api/v1/password/change/', { json: body });
    assert.equal(anonymous.status, 401);
    const wrong = await here.post<ErrorBody>('/api/v1/password/change/', { json: { ...body, current_password: 'not it at all 123' }, headers: csrf(here) });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'PASSWORD_INCORRECT');
    const weak = await here.post<ErrorBody>('/api/v1/password/change/', { json: { ...body, new_password: 'qwerty123' }, headers: csrf(here) });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'PASSWORD_TOO_WEAK');

    const changed = await here.post<{ ended_sessions: number }>('/api/v1/password/change/', { json: body, headers: csrf(here) });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.ended_sessions, 1);
    assert.equal((await here.get('/api/v1/me/')).status, 200, 'this session stays');
    assert.equal((await elsewhere.get('/api/v1/me/')).status, 401, 'the other one ends');
    assert.equal((await elsewhere.post('/api/v1/login/refresh/')).status, 401);
    await login(h.t, email, STRONGER);
    assert.match(await nthMail(h.sink, email, 1), /Subject: Your password was changed/);
  });

  it('change e-mail: link to the new address, switch on click, notice to the old one', async () => {
    const oldEmail = 'mover@example.com';
    const newEmail = 'moved@example.org';
    await activeUser(h.t, oldEmail);
    await activeUser(h.t, 'taken@example.com');
    const http = await login(h.t, oldEmail);

    const taken = await http.post('/api/v1/email/change/', { json: { new_email: 'taken@example.com', password: STRONG }, headers: csrf(http) });
    const request = await http.post('/api/v1/email/change/', { json: { new_email: ' Moved@Example.org ', password: STRONG }, headers: csrf(http) });
    assert.equal(request.status, 202, request.text);
    assert.equal(taken.status, 202, 'a taken address answers the same');
    assert.equal(taken.text, request.text);
    const wrong = await http.post<ErrorBody>('/api/v1/email/change/', { json: { new_email: newEmail, password: 'nope nope nope 42' }, headers: csrf(http) });
    assert.equal(wrong.body.error.code, 'PASSWORD_INCORRECT');

    const link = linkPath(await nthMail(h.sink, newEmail, 1), 'email/confirm');
    assert.equal((await h.t.app.services.users.findByEmail(oldEmail))?.email, oldEmail, 'nothing changes before the click');
    const confirmed = await new HttpClient(h.t.url).get<{ user: { email: string } }>(link);
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.body.user.email, newEmail);
    const notice = await nthMail(h.sink, oldEmail, 1);
    assert.match(notice, /Subject: Your e-mail address was changed/);
    assert.match(notice, /moved@example\.org/);
    const again = await new HttpClient(h.t.url).get<ErrorBody>(link);
    assert.equal(again.body.error.code, 'EMAIL_CHANGE_INVALID');
    await settleMail(h);
    assert.equal(mailsTo(h.sink, 'taken@example.com').length, 0, 'the taken address got nothing');
    h.clock.advance(1000);
    await login(h.t, newEmail);
    assert.equal((await new HttpClient(h.t.url).post('/api/v1/login/', { json: { email: oldEmail, password: STRONG } })).status, 401);
    assert.ok(!h.t.logs.text().includes(link.split('/')[5] ?? 'unreachable'), 'the confirm token is not logged');
  });

  it('change e-mail: an expired link is 410, and an address registered meanwhile is 409', async () => {
    await activeUser(h.t, 'slow@example.com');
    const http = await login(h.t, 'slow@example.com');
    await http.post('/api/v1/email/change/', { json: { new_email: 'slow.new@example.com', password: STRONG }, headers: csrf(http) });
    const first = linkPath(await nthMail(h.sink, 'slow.new@example.com', 1), 'email/confirm');
    await activeUser(h.t, 'slow.new@example.com');
    const conflict = await new HttpClient(h.t.url).get<ErrorBody>(first);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'EMAIL_TAKEN');
    await http.post('/api/v1/email/change/', { json: { new_email: 'slow.other@example.com', password: STRONG }, headers: csrf(http) });
    const second = linkPath(await nthMail(h.sink, 'slow.other@example.com', 1), 'email/confirm');
    await settleMail(h);
    h.clock.advance(h.t.app.config.accounts.emailChangeTtlMs);
    const expired = await new HttpClient(h.t.url).get<ErrorBody>(second);
    assert.equal(expired.status, 410);
    assert.equal(expired.body.error.code, 'EMAIL_CHANGE_EXPIRED');
  });

  it('delete my account: password required; sessions, tokens and presence go; a tombstone stays; hooks run', async () => {
    const email = 'leaver@example.com';
    const userId = await activeUser(h.t, email);
    const http = await login(h.t, email);
    const other = await login(h.t, email);
    const { lifecycle, storage } = h.t.app.services;
    const hooked: number[][] = [];
    lifecycle.hooks.onAccountDeleted(async (event) => {
      if (event.reason === 'deleted') hooked.push([...event.userIds]);
    });
    assert.equal(await lifecycle.isTombstoned(email), false);

    const wrong = await http.delete<ErrorBody>('/api/v1/me/', { json: { password: 'wrong password 99x' }, headers: csrf(http) });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'PASSWORD_INCORRECT');
    const noCsrf = await http.delete<ErrorBody>('/api/v1/me/', { json: { password: STRONG } });
    assert.equal(noCsrf.body.error.code, 'CSRF_FAILED');

    const deleted = await http.delete('/api/v1/me/', { json: { password: STRONG }, headers: csrf(http) });
    assert.equal(deleted.status, 200, deleted.text);
    assert.ok(/max-age=0|expires=thu, 01 jan 1970/i.test(deleted.setCookies.access_token ?? ''), 'cookies cleared');
    assert.equal((await other.get('/api/v1/me/')).status, 401, "the other session's access token dies");
    assert.equal((await other.post('/api/v1/login/refresh/')).status, 401);
    assert.deepEqual(hooked, [[userId]]);
    assert.equal(await lifecycle.isTombstoned(' LEAVER@example.com'), true);
    const tombstone = await storage.db.selectFrom('account_tombstones').selectAll().execute();
    assert.ok(tombstone.every((row) => !row.email_hash.includes('leaver')), 'the address itself is not stored');
    const left = await Promise.all(
      (['sessions', 'refresh_tokens', 'user_presence', 'account_tokens'] as const).map(async (table) =>
        (await storage.db.selectFrom(table).select('user_id').where('user_id', '=', userId).execute()).length,
      ),
    );
    assert.deepEqual(left, [0, 0, 0, 0]);
    assert.equal(await h.t.app.services.users.findById(userId), undefined);
    // The tombstone's promise to the unsubscribe list: the address stays suppressed for sequence mail.
    assert.equal(await h.t.app.services.sequences.suppressionList.reason(email), 'deleted');
    assert.equal((await storage.db.selectFrom('sequence_enrollments').select('id').where('user_id', '=', userId).execute()).length, 0);
    h.clock.advance(1000);
    assert.equal((await new HttpClient(h.t.url).post('/api/v1/login/', { json: { email, password: STRONG } })).status, 401);
  });
});
