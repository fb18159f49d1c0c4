import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient, type ErrorBody } from '../auth/support.js';

const PASSWORD = 'session routes password';
type SessionList = { sessions: Array<{ id: string; current: boolean; user_agent: string | null; ip: string | null; last_seen_at: string }> };

describe('session control: list, revoke one, revoke others; admin routes; auth-health', () => {
  const clock = new TestClock(Date.UTC(2026, 5, 1));
  let t: TestApp;
  let annId = 0;
  before(async () => {
    t = await startTestApp({ clock });
    annId = (await createUser(t, { email: 'ann@example.com', password: PASSWORD })).id;
    await createUser(t, { email: 'ben@example.com', password: PASSWORD });
    await createUser(t, { email: 'root@example.com', password: PASSWORD, role: 'admin' });
  });
  after(async () => t.stop());

  const list = async (http: HttpClient) => {
    const response = await http.get('/api/v1/sessions/');
    assert.equal(response.status, 200, response.text);
    return (response.body as SessionList).sessions;
  };

  it("lists the caller's live sessions with current: true on this one; others' sessions are 404; revoking needs CSRF", async () => {
    const ann1 = await loggedInClient(t, 'ann@example.com', PASSWORD);
    clock.advance(1000);
    const ann2 = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const ben = await loggedInClient(t, 'ben@example.com', PASSWORD);
    const sessions = await list(ann1);
    assert.equal(sessions.length, 2);
    assert.equal(sessions.filter((s) => s.current).length, 1);
    const [newest, oldest] = sessions as [SessionList['sessions'][0], SessionList['sessions'][0]];
    assert.equal(oldest.current, true, 'ann1 made the request; its session is the older one');
    assert.equal(newest.current, false);
    assert.equal(oldest.ip, '127.0.0.1');

    const benTries = await ben.delete(`/api/v1/sessions/${newest.id}/`, { headers: csrfHeaders(ben) });
    assert.equal(benTries.status, 404);
    assert.equal((benTries.body as ErrorBody).error.code, 'SESSION_NOT_FOUND');
    assert.equal((await ann1.delete(`/api/v1/sessions/${newest.id}/`)).status, 403, 'no CSRF header');
    assert.equal((await ann1.delete('/api/v1/sessions/not%20valid/', { headers: csrfHeaders(ann1) })).status, 400);

    assert.equal((await ann1.delete(`/api/v1/sessions/${newest.id}/`, { headers: csrfHeaders(ann1) })).status, 200);
    assert.equal((await ann2.get('/api/v1/me/')).status, 401, 'revoked session refused at once on this instance');
    assert.equal((await ann2.post('/api/v1/login/refresh/')).status, 401);
    assert.equal((await list(ann1)).length, 1);
    assert.equal((await ann1.delete(`/api/v1/sessions/${newest.id}/`, { headers: csrfHeaders(ann1) })).status, 404, 'already revoked');
  });

  it('authenticated requests move the session last_seen_at, written at most once a minute', async () => {
    const http = await loggedInClient(t, 'ben@example.com', PASSWORD);
    const mine = async () => (await list(http)).find((s) => s.current);
    const start = (await mine())?.last_seen_at;
    clock.advance(30_000);
    await http.get('/api/v1/me/');
    assert.equal((await mine())?.last_seen_at, new Date(clock.now() - 30_000).toISOString(), 'the first request counted; 30 s later nothing is written');
    assert.equal(start, new Date(clock.now() - 30_000).toISOString());
    clock.advance(31_000);
    await http.get('/api/v1/me/');
    assert.equal((await mine())?.last_seen_at, new Date(clock.now()).toISOString(), 'a minute on, the request is recorded');
    clock.advance(1_000);
    await http.get('/api/v1/me/');
    assert.equal((await mine())?.last_seen_at, new Date(clock.now() - 1_000).toISOString(), 'and the next second it is not');
  });

  it('revoke-others keeps only the current session', async () => {
    const keep = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const other = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const before = (await list(keep)).length;
    assert.ok(before >= 3);
    const response = await keep.post('/api/v1/sessions/revoke-others/', { headers: csrfHeaders(keep) });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { revoked: before - 1 });
    const after = await list(keep);
    assert.equal(after.length, 1);
    assert.equal(after[0]?.current, true);
    assert.equal((await other.get('/api/v1/me/')).status, 401);
  });

  it('admins list and log out a user; non-admins get 403; unknown users 404; auth-health reports per table', async () => {
    const ann = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const ben = await loggedInClient(t, 'ben@example.com', PASSWORD);
    const root = await loggedInClient(t, 'root@example.com', PASSWORD);
    assert.equal((await ben.get(`/api/v1/admin/users/${annId}/sessions/`)).status, 403);
    assert.equal((await root.get('/api/v1/admin/users/999999/sessions/')).status, 404);
    assert.equal((await root.get('/api/v1/admin/users/abc/sessions/')).status, 400);
    const listed = await root.get(`/api/v1/admin/users/${annId}/sessions/`);
    assert.equal(listed.status, 200);
    const count = (listed.body as SessionList).sessions.length;
    assert.ok(count >= 2);
    assert.equal((await root.post(`/api/v1/admin/users/${annId}/logout/`)).status, 403, 'CSRF applies');
    const out = await root.post(`/api/v1/admin/users/${annId}/logout/`, { headers: csrfHeaders(root) });
    assert.equal(out.status, 200);
    assert.deepEqual(out.body, { revoked: count });
    await t.app.services.auth.view.refreshNow();
    assert.equal((await ann.get('/api/v1/me/')).status, 401);
    assert.equal((await ben.get('/api/v1/me/')).status, 200);
    assert.equal(((await root.get(`/api/v1/admin/users/${annId}/sessions/`)).body as SessionList).sessions.length, 0);

    clock.advance(40 * 86_400_000);
    await t.app.services.jobs.runJob('clear-expired-sessions', { dryRun: false, trigger: 'cli', caller: {} });
    const root2 = await loggedInClient(t, 'root@example.com', PASSWORD);
    const health = await root2.get('/api/v1/admin/auth-health/');
    assert.equal(health.status, 200, health.text);
    const tables = (health.body as { tables: Array<{ table: string; rows: number; expired: number; last_sweep: { job: string; rows: number } | null }> }).tables;
    assert.deepEqual(tables.map((row) => row.table), ['refresh_tokens', 'session_revocations', 'sessions']);
    const sessions = tables.find((row) => row.table === 'sessions');
    assert.equal(sessions?.rows, 1, 'only the fresh admin session is left');
    assert.equal(sessions?.last_sweep?.job, 'clear-expired-sessions');
    assert.ok((sessions?.last_sweep?.rows ?? 0) >= 6);
  });
});
