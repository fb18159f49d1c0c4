import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient, type ErrorBody } from '../auth/support.js';

const PASSWORD = 'admin sessions password long';
type SessionList = { sessions: Array<{ id: string; current: boolean }> };

describe("DELETE /api/v1/admin/users/:id/sessions/:sid/: an admin revokes one of a user's sessions", () => {
  let t: TestApp;
  let second: TestApp;
  let annId = 0;
  let benId = 0;
  before(async () => {
    t = await startTestApp();
    second = await startTestApp({ database: t.database });
    annId = Number((await createUser(t, { email: 'ann@example.com', password: PASSWORD })).id);
    benId = Number((await createUser(t, { email: 'ben@example.com', password: PASSWORD })).id);
    await createUser(t, { email: 'root@example.com', password: PASSWORD, role: 'admin' });
  });
  after(async () => {
    await second.stop();
    await t.stop();
  });

  const sessionsOf = async (admin: HttpClient, userId: number) => {
    const response = await admin.get<SessionList>(`/api/v1/admin/users/${userId}/sessions/`);
    assert.equal(response.status, 200, response.text);
    return response.body.sessions;
  };

  /** The session a client signed in with, as its owner sees it. */
  const currentSession = async (http: HttpClient) => {
    const mine = (await http.get<SessionList>('/api/v1/sessions/')).body.sessions.find((s) => s.current);
    assert.ok(mine);
    return mine;
  };

  it('204; that session is refused at once (access token and refresh), the user\'s other session keeps working', async () => {
    const admin = await loggedInClient(t, 'root@example.com', PASSWORD);
    const annPhone = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const annLaptop = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const newest = await currentSession(annLaptop);
    const response = await admin.delete(`/api/v1/admin/users/${annId}/sessions/${newest.id}/`, { headers: csrfHeaders(admin) });
    assert.equal(response.status, 204, response.text);
    assert.equal(response.text, '');
    assert.equal((await annLaptop.get('/api/v1/me/')).status, 401, 'the revoked session is refused');
    assert.equal((await annLaptop.post('/api/v1/login/refresh/')).status, 401);
    assert.equal((await annPhone.get('/api/v1/me/')).status, 200, 'the other session is untouched');
    assert.deepEqual((await sessionsOf(admin, annId)).map((s) => s.id).includes(newest.id), false);
    const again = await admin.delete<ErrorBody>(`/api/v1/admin/users/${annId}/sessions/${newest.id}/`, { headers: csrfHeaders(admin) });
    assert.equal(again.status, 404, 'already revoked');
    assert.equal(again.body.error.code, 'SESSION_NOT_FOUND');
  });

  it("another instance refuses the revoked session's access token too", async () => {
    const admin = await loggedInClient(t, 'root@example.com', PASSWORD);
    const ann = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const elsewhere = new HttpClient(second.url);
    for (const [name, value] of ann.jar) elsewhere.jar.set(name, value);
    assert.equal((await elsewhere.get('/api/v1/me/')).status, 200);
    const newest = await currentSession(ann);
    assert.equal((await admin.delete(`/api/v1/admin/users/${annId}/sessions/${newest.id}/`, { headers: csrfHeaders(admin) })).status, 204);
    await second.app.services.auth.view.refreshNow();
    assert.equal((await elsewhere.get('/api/v1/me/')).status, 401);
  });

  it("404 for a session of another user, an unknown session or user; 400 for junk ids; 403 without CSRF or the admin role; 401 signed out", async () => {
    const admin = await loggedInClient(t, 'root@example.com', PASSWORD);
    const ben = await loggedInClient(t, 'ben@example.com', PASSWORD);
    const bens = await currentSession(ben);
    const wrongUser = await admin.delete<ErrorBody>(`/api/v1/admin/users/${annId}/sessions/${bens.id}/`, { headers: csrfHeaders(admin) });
    assert.equal(wrongUser.status, 404);
    assert.equal(wrongUser.body.error.code, 'SESSION_NOT_FOUND');
    assert.equal((await ben.get('/api/v1/me/')).status, 200, "ben's session was not touched");
    const unknown = await admin.delete<ErrorBody>(`/api/v1/admin/users/${annId}/sessions/AAAAAAAAAAAAAAAAAAAAAAAA/`, { headers: csrfHeaders(admin) });
    assert.equal(unknown.body.error.code, 'SESSION_NOT_FOUND');
    const noUser = await admin.delete<ErrorBody>(`/api/v1/admin/users/999999/sessions/${bens.id}/`, { headers: csrfHeaders(admin) });
    assert.equal(noUser.status, 404);
    assert.equal(noUser.body.error.code, 'USER_NOT_FOUND');
    for (const path of [`/api/v1/admin/users/abc/sessions/${bens.id}/`, `/api/v1/admin/users/${benId}/sessions/not%20valid/`, `/api/v1/admin/users/${benId}/sessions/${'a'.repeat(65)}/`]) {
      assert.equal((await admin.delete(path, { headers: csrfHeaders(admin) })).status, 400, path);
    }
    const path = `/api/v1/admin/users/${benId}/sessions/${bens.id}/`;
    const noCsrf = await admin.delete<ErrorBody>(path);
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.code, 'CSRF_FAILED');
    const notAdmin = await ben.delete<ErrorBody>(path, { headers: csrfHeaders(ben) });
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.error.code, 'FORBIDDEN');
    assert.equal((await new HttpClient(t.url).delete(path)).status, 401);
    assert.equal((await ben.get('/api/v1/me/')).status, 200, 'every refused request left the session alone');
  });
});
