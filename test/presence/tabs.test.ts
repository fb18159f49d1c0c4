import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { eventually, openTab, sawOffline, sawOnline, upgradeStatus, userWithClient } from './support.js';

type Status = { id: number; online: boolean; last_seen_at: string | null; active_connections: number };

describe('presence over real WebSockets', () => {
  const clock = new TestClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  let t: TestApp;
  let alice: { id: number; http: HttpClient };
  let bob: { id: number; http: HttpClient };
  let carol: { id: number; http: HttpClient };

  before(async () => {
    t = await startTestApp({ clock, background: true, env: { PRESENCE_TICK_MS: '20', PRESENCE_OFFLINE_GRACE: '10', PRESENCE_VISIBILITY: 'signed-in' } });
    alice = await userWithClient(t, 'alice');
    bob = await userWithClient(t, 'bob');
    carol = await userWithClient(t, 'carol');
  });
  after(async () => t.stop());

  const status = async (id: number): Promise<Status> => {
    const response = await bob.http.get<Status>(`/api/v1/users/${id}/presence/`);
    assert.equal(response.status, 200, response.text);
    return response.body;
  };

  it('two tabs: closing one keeps the user online; closing both takes them offline after the grace only', async () => {
    const observer = await openTab(t.url, bob.http);
    const first = await openTab(t.url, alice.http);
    const second = await openTab(t.url, alice.http);
    await observer.waitFor(sawOnline(alice.id), 'alice online');
    assert.deepEqual(await status(alice.id), { id: alice.id, online: true, last_seen_at: new Date(clock.now()).toISOString(), active_connections: 2 });

    await first.close();
    await eventually(async () => (await status(alice.id)).active_connections === 1, 'one connection left');
    assert.equal((await status(alice.id)).online, true);

    await second.close();
    await eventually(async () => (await status(alice.id)).active_connections === 0, 'no connection left');
    clock.advance(9_999);
    await t.app.services.presence.tick();
    assert.equal((await status(alice.id)).online, true, 'still online within the grace');
    assert.ok(!observer.messages.some(sawOffline(alice.id)), 'no offline event within the grace');

    clock.advance(1);
    await observer.waitFor(sawOffline(alice.id), 'alice offline after the grace');
    assert.equal((await status(alice.id)).online, false);
    await observer.close();
  });

  it('a reload within the grace sends no offline event', async () => {
    const observer = await openTab(t.url, bob.http);
    const tab = await openTab(t.url, alice.http);
    await observer.waitFor(sawOnline(alice.id), 'alice online');
    const mark = observer.messages.length;

    await tab.close();
    await eventually(async () => (await status(alice.id)).active_connections === 0, 'closed');
    clock.advance(3_000);
    const reloaded = await openTab(t.url, alice.http);
    clock.advance(20_000);
    await t.app.services.presence.tick();

    // A later, unrelated offline event proves the diffs in between were delivered (and held no alice).
    const other = await openTab(t.url, carol.http);
    await other.close();
    await eventually(async () => (await status(carol.id)).active_connections === 0, 'carol closed');
    clock.advance(10_000);
    await observer.waitFor(sawOffline(carol.id), 'carol offline', mark);
    assert.ok(!observer.messages.slice(mark).some(sawOffline(alice.id)), JSON.stringify(observer.messages.slice(mark)));
    assert.equal((await status(alice.id)).online, true);
    await reloaded.close();
    await observer.close();
  });

  it("pushes a change only to viewers the app's visibility function allows", async () => {
    const frank = await userWithClient(t, 'frank');
    const gina = await userWithClient(t, 'gina');
    t.app.services.presence.setVisibility((viewer, subjectId) => !(viewer.userId === alice.id && subjectId === frank.id));
    try {
      const [aliceTab, bobTab] = await Promise.all([openTab(t.url, alice.http), openTab(t.url, bob.http)]);
      const [aliceMark, bobMark] = [aliceTab.messages.length, bobTab.messages.length];
      const frankTab = await openTab(t.url, frank.http);
      await bobTab.waitFor(sawOnline(frank.id), 'bob sees frank', bobMark);
      // A later change alice may see: once it arrived, frank's earlier diff would have too.
      const ginaTab = await openTab(t.url, gina.http);
      await aliceTab.waitFor(sawOnline(gina.id), 'alice sees gina', aliceMark);
      const seenByAlice = aliceTab.messages.slice(aliceMark).flatMap((m) => [...(m.online ?? []), ...(m.offline ?? [])]);
      assert.ok(!seenByAlice.includes(frank.id), `alice never hears of frank: ${JSON.stringify(aliceTab.messages.slice(aliceMark))}`);
      await Promise.all([aliceTab.close(), bobTab.close(), frankTab.close(), ginaTab.close()]);
    } finally {
      t.app.services.presence.setVisibility(undefined);
    }
  });

  it('diffs are batched: one message per tick with every change in it', async () => {
    const observer = await openTab(t.url, bob.http);
    const mark = observer.messages.length;
    const dave = await userWithClient(t, 'dave');
    const erin = await userWithClient(t, 'erin');
    const [d, e] = await Promise.all([openTab(t.url, dave.http), openTab(t.url, erin.http)]);
    await observer.waitFor((m) => sawOnline(dave.id)(m) && sawOnline(erin.id)(m), 'one diff naming both', mark).catch(async () => {
      // Two ticks may separate the two connects; then each diff names one user, never a duplicate.
      await observer.waitFor(sawOnline(erin.id), 'erin online', mark);
      await observer.waitFor(sawOnline(dave.id), 'dave online', mark);
    });
    for (const message of observer.messages.slice(mark)) {
      assert.equal(message.type, 'presence');
      assert.ok(Array.isArray(message.online) && Array.isArray(message.offline));
    }
    await Promise.all([d.close(), e.close()]);
    await eventually(async () => (await status(dave.id)).active_connections + (await status(erin.id)).active_connections === 0, 'closed');
    clock.advance(10_000);
    const both = await observer.waitFor((m) => sawOffline(dave.id)(m) && sawOffline(erin.id)(m), 'one offline diff naming both', mark);
    assert.ok(both.offline?.indexOf(dave.id) === both.offline?.lastIndexOf(dave.id), 'each id once');
    await observer.close();
  });

  it('lists online users with a cursor', async () => {
    const tabs = await Promise.all([openTab(t.url, alice.http), openTab(t.url, carol.http)]);
    const all = await bob.http.get<{ results: Status[]; next: number | null }>('/api/v1/presence/?limit=500');
    assert.equal(all.status, 200, all.text);
    const ids = all.body.results.map((r) => r.id);
    assert.ok(ids.includes(alice.id) && ids.includes(carol.id), JSON.stringify(ids));
    assert.ok(all.body.results.every((r) => r.online));
    assert.equal(all.body.next, null);
    const paged: number[] = [];
    let cursor = 0;
    for (let page = 0; page < 10; page += 1) {
      const response = await bob.http.get<{ results: Status[]; next: number | null }>(`/api/v1/presence/?limit=1&after=${cursor}`);
      paged.push(...response.body.results.map((r) => r.id));
      if (response.body.next === null) break;
      cursor = response.body.next;
    }
    assert.deepEqual(paged, ids);
    for (const tab of tabs) await tab.close();
  });

  it('refuses upgrades without a valid access cookie or from a foreign Origin; REST needs a user', async () => {
    assert.equal(await upgradeStatus(t.url, {}), 401);
    assert.equal(await upgradeStatus(t.url, { cookie: 'access_token=forged' }), 401);
    const cookie = `access_token=${alice.http.cookie('access_token')}`;
    assert.equal(await upgradeStatus(t.url, { cookie, origin: 'https://evil.example' }), 403);
    assert.equal(await upgradeStatus(t.url, { cookie, origin: new URL(t.app.config.publicUrl).origin }), 101);
    const anonymous = await fetch(`${t.url}/api/v1/presence/`);
    assert.equal(anonymous.status, 401);
    assert.equal((await bob.http.get(`/api/v1/users/999999/presence/`)).status, 404);
    assert.equal((await bob.http.get(`/api/v1/users/abc/presence/`)).status, 400);
    assert.equal((await bob.http.get(`/api/v1/presence/?limit=0`)).status, 400);
    assert.equal((await bob.http.get(`/api/v1/presence/?bogus=1`)).status, 400);
  });
});
