import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { TestClock } from '../../src/clock.js';
import { TOO_MANY_CONNECTIONS_CLOSE } from '../../src/http/routes/presence-socket.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { openTab, sawOnline, type PresenceMessage, type Tab } from './support.js';

type Status = { id: number; online: boolean; last_seen_at: string | null; active_connections: number };
type ErrorBody = { error: { code: string; message: string } };

/** Opens `/ws` and resolves with the first thing that happens: hello, or a close code. */
async function openRaw(baseUrl: string, http: HttpClient): Promise<{ socket: WebSocket; hello: boolean; closeCode: number | undefined }> {
  const cookie = [...http.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/ws', { headers: { cookie } });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as PresenceMessage).type === 'hello') resolve({ socket, hello: true, closeCode: undefined });
    });
    socket.once('close', (code) => resolve({ socket, hello: false, closeCode: code }));
  });
}

describe('presence visibility (issue 16 #13): self and admins by default', () => {
  const clock = new TestClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  let t: TestApp;
  let alice: { id: number; http: HttpClient };
  let bob: { id: number; http: HttpClient };
  let admin: { id: number; http: HttpClient };

  const user = async (name: string, role: 'user' | 'admin' = 'user') => {
    const row = await createUser(t, { email: `${name}@example.test`, password: 'correct horse battery', role });
    return { id: Number(row.id), http: await loggedInClient(t, `${name}@example.test`, 'correct horse battery') };
  };

  before(async () => {
    t = await startTestApp({ clock, background: true, env: { PRESENCE_TICK_MS: '20', PRESENCE_MAX_CONNECTIONS_PER_USER: '3' } });
    alice = await user('alice');
    bob = await user('bob');
    admin = await user('root', 'admin');
  });
  after(async () => t.stop());

  it("a user cannot read another user's presence, nor learn which ids exist: both answer 404", async () => {
    const hidden = await bob.http.get<ErrorBody>(`/api/v1/users/${alice.id}/presence/`);
    const missing = await bob.http.get<ErrorBody>('/api/v1/users/999999/presence/');
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    assert.deepEqual(hidden.body, missing.body, 'the same answer for a hidden and a missing user');
  });

  it('a user sees themself, with ISO timestamps (issue 14); an admin sees everyone', async () => {
    const tab = await openTab(t.url, alice.http);
    const own = await alice.http.get<Status>(`/api/v1/users/${alice.id}/presence/`);
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(own.body, { id: alice.id, online: true, last_seen_at: new Date(clock.now()).toISOString(), active_connections: 1 });
    const byAdmin = await admin.http.get<Status>(`/api/v1/users/${alice.id}/presence/`);
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.online, true);
    await tab.close();
  });

  it('the online list shows a user only themself; an admin the whole list', async () => {
    const tabs: Tab[] = [await openTab(t.url, alice.http), await openTab(t.url, bob.http)];
    const list = async (http: HttpClient) => (await http.get<{ results: Status[] }>('/api/v1/presence/')).body.results.map((row) => row.id);
    assert.deepEqual(await list(bob.http), [bob.id]);
    assert.deepEqual(await list(admin.http), [alice.id, bob.id].sort((x, y) => x - y));
    for (const tab of tabs) await tab.close();
  });

  it("pushes: a user's socket hears no other user's flips; an admin's hears them all", async () => {
    const carol = await user('carol');
    const watcher = await openTab(t.url, bob.http);
    const adminTab = await openTab(t.url, admin.http);
    const tab = await openTab(t.url, carol.http);
    await adminTab.waitFor(sawOnline(carol.id), 'the admin sees carol come online');
    // The flip went to every socket in one flush, before the admin heard it: a ping
    // answered on bob's socket now comes after anything that flush sent him.
    await new Promise((resolve) => {
      watcher.socket.once('pong', resolve);
      watcher.socket.ping();
    });
    assert.ok(!watcher.messages.some(sawOnline(carol.id)), `bob heard about carol: ${JSON.stringify(watcher.messages)}`);
    await tab.waitFor(sawOnline(carol.id), 'carol hears her own flip');
    for (const open of [tab, watcher, adminTab]) await open.close();
  });

  it('PRESENCE_MAX_CONNECTIONS_PER_USER: the socket past the cap is closed with 4008; the older ones stay', async () => {
    const dave = await user('dave');
    const kept = [await openRaw(t.url, dave.http), await openRaw(t.url, dave.http), await openRaw(t.url, dave.http)];
    assert.deepEqual(kept.map((open) => open.hello), [true, true, true]);
    const refused = await openRaw(t.url, dave.http);
    assert.equal(refused.hello, false);
    assert.equal(refused.closeCode, TOO_MANY_CONNECTIONS_CLOSE);
    assert.ok(kept.every((open) => open.socket.readyState === WebSocket.OPEN), 'the first three are untouched');
    // The refused socket is gone from the shared count; a slot frees when one closes.
    const closed = new Promise((resolve) => kept[0]?.socket.once('close', resolve));
    kept[0]?.socket.close();
    await closed;
    let again = await openRaw(t.url, dave.http);
    for (let tries = 0; !again.hello && tries < 50; tries += 1) {
      // The server handles the close asynchronously; ask again until it has.
      await new Promise((resolve) => setTimeout(resolve, 20));
      again = await openRaw(t.url, dave.http);
    }
    assert.equal(again.hello, true, 'a freed place can be used');
    for (const open of [...kept.slice(1), again]) open.socket.close();
  });
});
