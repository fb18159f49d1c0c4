import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PresenceRepository } from '../../src/db/repositories/presence.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { SESSION_REVOKED_CLOSE } from '../../src/http/routes/presence-socket.js';
import { csrfHeaders, loggedInClient } from '../auth/support.js';
import { eventually, openTab, userWithClient } from './support.js';

describe('presence pings', () => {
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ background: true, env: { PRESENCE_PING_INTERVAL_MS: '100', PRESENCE_TICK_MS: '20' } });
  });
  after(async () => t.stop());

  it('closes a connection that stops answering pings, and keeps one that answers', async () => {
    const repo = new PresenceRepository(t.app.services.storage);
    const silent = await userWithClient(t, 'silent');
    const lively = await userWithClient(t, 'lively');
    const silentTab = await openTab(t.url, silent.http);
    const livelyTab = await openTab(t.url, lively.http);
    // A paused client reads nothing, so it never answers the server's pings.
    silentTab.socket.pause();
    await eventually(async () => (await repo.find(silent.id))?.active_connections === 0, 'the silent socket closed by the server');
    // By then the answering socket has lived through several pings.
    assert.equal((await repo.find(lively.id))?.active_connections, 1);
    assert.equal(livelyTab.closed, false);
    silentTab.socket.terminate();
    await livelyTab.close();
  });

  it('closes the sockets of a revoked session with 4001 and keeps the user\'s other sessions connected', async () => {
    const repo = new PresenceRepository(t.app.services.storage);
    const phone = await userWithClient(t, 'revoked');
    const laptop = await loggedInClient(t, 'revoked@example.test', 'correct horse battery');
    const phoneTab = await openTab(t.url, phone.http);
    const laptopTab = await openTab(t.url, laptop);
    await eventually(async () => (await repo.find(phone.id))?.active_connections === 2, 'both sockets recorded');
    const sessions = (await laptop.get('/api/v1/sessions/')).body as { sessions: Array<{ id: string; current: boolean }> };
    const phoneSession = sessions.sessions.find((s) => !s.current);
    assert.ok(phoneSession);
    const revoke = await laptop.delete(`/api/v1/sessions/${phoneSession.id}/`, { headers: csrfHeaders(laptop) });
    assert.equal(revoke.status, 200);
    await eventually(async () => phoneTab.closed, 'the revoked session\'s socket closed');
    assert.equal(phoneTab.closeCode, SESSION_REVOKED_CLOSE);
    await eventually(async () => (await repo.find(phone.id))?.active_connections === 1, 'its connection row gone');
    assert.equal(laptopTab.closed, false);
    await laptopTab.close();
  });
});
