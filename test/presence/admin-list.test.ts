import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { testEngine } from '../helpers/database.js';
import { openTab, type Tab } from './support.js';

type OnlineUser = { user_id: number; email: string; connections: number; last_seen_at: string | null };
type Page = { users: OnlineUser[]; next: number | null };
type ErrorBody = { error: { code: string; message: string } };

describe(`GET /api/v1/admin/presence/: online users with their e-mail, for admins (${testEngine()})`, () => {
  const clock = new TestClock(Date.UTC(2026, 10, 30, 12, 0, 0));
  let t: TestApp;
  let alice: { id: number; http: HttpClient };
  let bob: { id: number; http: HttpClient };
  let admin: { id: number; http: HttpClient };
  const tabs: Tab[] = [];

  const user = async (name: string, role: 'user' | 'admin' = 'user') => {
    const row = await createUser(t, { email: `${name}@example.test`, password: 'correct horse battery', role });
    return { id: Number(row.id), http: await loggedInClient(t, `${name}@example.test`, 'correct horse battery') };
  };

  before(async () => {
    t = await startTestApp({ clock, background: true, env: { PRESENCE_TICK_MS: '20' } });
    alice = await user('alice');
    bob = await user('bob');
    admin = await user('root', 'admin');
    // Alice in two tabs, Bob in one; the admin has no socket open (and is not online).
    tabs.push(await openTab(t.url, alice.http), await openTab(t.url, alice.http), await openTab(t.url, bob.http));
  });
  after(async () => {
    for (const tab of tabs) await tab.close();
    await t.stop();
  });

  it('lists each online user with e-mail, connections and last seen, by ascending id', async () => {
    const page = await admin.http.get<Page>('/api/v1/admin/presence/');
    assert.equal(page.status, 200, page.text);
    const seen = new Date(clock.now()).toISOString();
    assert.deepEqual(page.body, {
      users: [
        { user_id: alice.id, email: 'alice@example.test', connections: 2, last_seen_at: seen },
        { user_id: bob.id, email: 'bob@example.test', connections: 1, last_seen_at: seen },
      ],
      next: null,
    });
  });

  it('pages like /api/v1/presence/: limit, then next as after', async () => {
    const first = await admin.http.get<Page>('/api/v1/admin/presence/?limit=1');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.users.map((u) => u.email), ['alice@example.test']);
    assert.equal(first.body.next, alice.id);
    const second = await admin.http.get<Page>(`/api/v1/admin/presence/?limit=1&after=${String(first.body.next)}`);
    assert.deepEqual(second.body.users.map((u) => u.email), ['bob@example.test']);
    assert.equal(second.body.next, null);
    const past = await admin.http.get<Page>(`/api/v1/admin/presence/?after=${bob.id}`);
    assert.deepEqual(past.body, { users: [], next: null });
  });

  it('refuses a non-admin (403) and a signed-out caller (401)', async () => {
    const member = await alice.http.get<ErrorBody>('/api/v1/admin/presence/');
    assert.equal(member.status, 403, member.text);
    assert.equal(typeof member.body.error.code, 'string');
    assert.equal((await new HttpClient(t.url).get('/api/v1/admin/presence/')).status, 401);
  });

  it('answers junk paging with 400 (VALIDATION_FAILED, UNKNOWN_FIELD), never a 5xx', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=x', 'limit=-1', 'limit=1.5', 'after=-1', 'after=abc', 'after=1e3', 'after=1234567890123456', 'limit=']) {
      const answer = await admin.http.get<ErrorBody>(`/api/v1/admin/presence/?${query}`);
      assert.equal(answer.status, 400, `${query}: ${answer.text}`);
      assert.equal(answer.body.error.code, 'VALIDATION_FAILED', query);
    }
    const unknown = await admin.http.get<ErrorBody>('/api/v1/admin/presence/?page=2');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'UNKNOWN_FIELD', 'a paging name of another API is named, not ignored');
  });
});
