import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { PresenceRepository } from '../../src/db/repositories/presence.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient } from '../helpers/http.js';
import { openTab, sawOffline, userWithClient } from './support.js';

const MINUTE = 60_000;
const CRON_SECRET = 'presence-sweep-secret-0123456789abcdef0123456789';

describe('check-inactive-users with a fake clock', () => {
  const t0 = Date.UTC(2026, 2, 1, 9, 0, 0);
  const clock = new TestClock(t0);
  let t: TestApp;
  let repo: PresenceRepository;
  let early: { id: number; http: HttpClient };
  let late: { id: number; http: HttpClient };
  let watcher: { id: number; http: HttpClient };

  before(async () => {
    t = await startTestApp({ clock, background: true, env: { PRESENCE_TICK_MS: '20', PRESENCE_VISIBILITY: 'signed-in', INACTIVITY_MINUTES: '30', CRON_SECRETS: CRON_SECRET, ACCESS_TOKEN_TTL: '86400' } });
    repo = new PresenceRepository(t.app.services.storage);
    early = await userWithClient(t, 'early');
    late = await userWithClient(t, 'late');
    watcher = await userWithClient(t, 'watcher');
  });
  after(async () => t.stop());

  const run = async () => {
    const summary = await t.app.services.jobs.runJob('check-inactive-users', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(summary.status, 'ok', summary.error);
    return summary.counts;
  };

  it('marks users offline exactly when their last activity is INACTIVITY_MINUTES old, resets connections, pushes the diff', async () => {
    const earlyTab = await openTab(t.url, early.http);
    clock.advance(MINUTE);
    const lateTab = await openTab(t.url, late.http);

    // An authenticated HTTP request is activity too, but written at most once a minute per user.
    clock.advance(4 * MINUTE);
    assert.equal((await late.http.get('/api/v1/me/')).status, 200);
    clock.advance(30_000);
    assert.equal((await late.http.get('/api/v1/me/')).status, 200);
    await t.app.services.presence.tick();
    const lateSeen = t0 + 5 * MINUTE;
    assert.equal((await repo.find(late.id))?.last_seen_at, lateSeen);

    clock.set(t0 + 30 * MINUTE);
    const observer = await openTab(t.url, watcher.http);
    assert.deepEqual(await run(), { marked_offline: 0, connections_removed: 0, instances_reaped: 0 });
    assert.equal((await repo.find(early.id))?.online, 1, 'exactly 30 minutes: not yet');

    clock.advance(1);
    assert.deepEqual(await run(), { marked_offline: 1, connections_removed: 1, instances_reaped: 0 });
    const row = await repo.find(early.id);
    assert.equal(row?.online, 0);
    assert.equal(row?.active_connections, 0);
    assert.equal((await repo.find(late.id))?.online, 1);
    await observer.waitFor(sawOffline(early.id), 'early offline pushed');

    clock.set(lateSeen + 30 * MINUTE);
    assert.equal((await run()).marked_offline, 0);
    clock.advance(1);
    // Through the seed's route: DELETE /api/cronjob/cron/check-inactive-users with the Bearer secret.
    const response = await fetch(`${t.url}/api/cronjob/cron/check-inactive-users`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    assert.equal(response.status, 200, await response.text());
    assert.equal((await repo.find(late.id))?.online, 0);
    await observer.waitFor(sawOffline(late.id), 'late offline pushed');

    // The socket is still open: its next message brings the user back online. Only
    // messages from here on count: the observer may hold a late copy of early's first
    // online diff (delivered through the bus after it connected), and matching that
    // would read the row in the middle of the re-attach.
    const from = observer.messages.length;
    earlyTab.socket.send('{"type":"active"}');
    const back = await observer.waitFor((m) => m.type === 'presence' && (m.online ?? []).includes(early.id), 'early back online', from);
    assert.ok(back);
    const again = await repo.find(early.id);
    assert.equal(again?.online, 1);
    assert.equal(again?.active_connections, 1);
    await earlyTab.close();
    await lateTab.close();
    await observer.close();
  });

  it('a dry run counts and changes nothing', async () => {
    const tab = await openTab(t.url, early.http);
    clock.advance(31 * MINUTE);
    const summary = await t.app.services.jobs.runJob('check-inactive-users', { dryRun: true, trigger: 'cli', caller: {} });
    assert.ok((summary.counts.would_mark_offline ?? 0) >= 1, JSON.stringify(summary.counts));
    assert.equal((await repo.find(early.id))?.online, 1);
    await tab.close();
  });

  it('the job is no longer a placeholder', async () => {
    const definition = t.app.services.jobs.definitions().find((job) => job.name === 'check-inactive-users');
    assert.equal(definition?.placeholder, undefined);
  });
});
