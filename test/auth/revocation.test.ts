import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, csrfHeaders, loggedInClient } from './support.js';

const PASSWORD = 'revocation password';

describe('revocation view: sessions, per-user and global not-before, across instances', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let userB = 0;
  const clock = new TestClock(Date.UTC(2026, 5, 1));
  before(async () => {
    database = await createTestDatabase();
    a = await startTestApp({ database, clock });
    b = await startTestApp({ database, clock });
    await createUser(a, { email: 'ann@example.com', password: PASSWORD });
    userB = (await createUser(a, { email: 'ben@example.com', password: PASSWORD })).id;
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await database.drop();
  });

  /** Replays a client's access cookie against instance B. */
  const meOnB = (http: HttpClient) => {
    const other = new HttpClient(b.url);
    other.jar.set('access_token', http.cookie('access_token') as string);
    return other.get('/api/v1/me/');
  };

  it('a logout on A reaches B when B refreshes its view', async () => {
    const http = await loggedInClient(a, 'ann@example.com', PASSWORD);
    const token = http.cookie('access_token') as string;
    assert.equal((await meOnB(http)).status, 200);
    assert.equal((await http.post('/api/v1/logout/', { headers: csrfHeaders(http) })).status, 200);
    await b.app.services.auth.view.refreshNow();
    const replay = new HttpClient(b.url);
    replay.jar.set('access_token', token);
    assert.equal((await replay.get('/api/v1/me/')).status, 401);
  });

  it('per-user not-before ends every session of that user only', async () => {
    const ann = await loggedInClient(a, 'ann@example.com', PASSWORD);
    const ben1 = await loggedInClient(a, 'ben@example.com', PASSWORD);
    const ben2 = await loggedInClient(b, 'ben@example.com', PASSWORD);
    clock.advance(1);
    await a.app.services.auth.sessions.revokeAllForUser(userB);
    await b.app.services.auth.view.refreshNow();
    assert.equal((await meOnB(ben1)).status, 401);
    assert.equal((await meOnB(ben2)).status, 401);
    assert.equal((await meOnB(ann)).status, 200, 'other users keep their sessions');
    assert.equal((await ben2.post('/api/v1/login/refresh/')).status, 401, 'refresh is refused too');
    clock.advance(1);
    const again = await loggedInClient(b, 'ben@example.com', PASSWORD);
    assert.equal((await meOnB(again)).status, 200, 'a new login after the mark works');
  });

  it('global not-before ends every session existing at that time', async () => {
    const ann = await loggedInClient(a, 'ann@example.com', PASSWORD);
    const ben = await loggedInClient(b, 'ben@example.com', PASSWORD);
    clock.advance(1);
    await b.app.services.auth.sessions.revokeEveryone();
    await Promise.all([a.app.services.auth.view.refreshNow(), b.app.services.auth.view.refreshNow()]);
    assert.equal((await meOnB(ann)).status, 401);
    assert.equal((await ann.get('/api/v1/me/')).status, 401);
    assert.equal((await meOnB(ben)).status, 401);
    assert.equal((await ben.post('/api/v1/login/refresh/')).status, 401);
    clock.advance(1);
    const fresh = await loggedInClient(a, 'ann@example.com', PASSWORD);
    assert.equal((await meOnB(fresh)).status, 200);
  });

  it('keeps revoked sessions only until their access tokens would have expired', async () => {
    const http = await loggedInClient(a, 'ann@example.com', PASSWORD);
    await http.post('/api/v1/logout/', { headers: csrfHeaders(http) });
    await b.app.services.auth.view.refreshNow();
    assert.ok(b.app.services.auth.view.size().sessions >= 1);
    clock.advance(301_000 + 1000);
    await b.app.services.auth.view.refreshNow();
    assert.equal(b.app.services.auth.view.size().sessions, 0);
  });

  it('a view started later loads the revocations that still matter', async () => {
    const http = await loggedInClient(a, 'ann@example.com', PASSWORD);
    const token = http.cookie('access_token') as string;
    await http.post('/api/v1/logout/', { headers: csrfHeaders(http) });
    const c = await startTestApp({ database, clock });
    try {
      const replay = new HttpClient(c.url);
      replay.jar.set('access_token', token);
      assert.equal((await replay.get('/api/v1/me/')).status, 401);
    } finally {
      await c.stop();
    }
  });
});
