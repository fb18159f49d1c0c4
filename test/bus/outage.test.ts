import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';
import { eventually, OwnNats } from './support.js';

const skip = OwnNats.available();
if (skip) console.log(`# skipped: ${skip}`);

/**
 * A NATS server of the test's own (never the machine's), stopped while
 * sessions are revoked and started again: logins work throughout, /ready
 * says the bus is down, and every event of the outage arrives afterwards.
 * A JetStream stream on the own server records what was published, so the
 * check does not depend on which client reconnects first.
 */
describe('events survive a bus outage (own nats-server, stopped and restarted)', { skip: skip ?? false }, () => {
  let nats: OwnNats;
  let t: TestApp;
  let observer: NatsConnection;
  const stream = 'CURFEW_OUTAGE_TEST';

  before(async () => {
    nats = await OwnNats.start();
    observer = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await (await observer.jetstreamManager()).streams.add({ name: stream, subjects: ['curfew.events.>'] });
    t = await startTestApp({ env: { BUS_URL: nats.url, BUS_OUTBOX_POLL_MS: '50' }, background: true });
    await createUser(t, { email: 'down@example.com', password: 'correct horse battery' });
    await eventually(() => t.app.services.bus.state() === 'connected', 10_000, 'the app on the own NATS');
  });

  after(async () => {
    await t?.stop();
    await observer?.close().catch(() => undefined);
    await nats?.destroy();
  });

  const revokedIds = async (): Promise<string[]> => {
    const jsm = await observer.jetstreamManager();
    const info = await jsm.streams.info(stream);
    const ids: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message = await jsm.streams.getMessage(stream, { seq });
      if (message.subject === 'curfew.events.session.revoked') ids.push((message.json() as { session_id: string }).session_id);
    }
    return ids;
  };

  it('logins and logouts work while the bus is down; the events are published after it returns, none lost', async () => {
    await nats.stop();
    await eventually(() => t.app.services.bus.state() === 'disconnected', 10_000, 'the app to notice the outage');
    const ready = await fetch(`${t.url}/ready`);
    assert.equal(ready.status, 200, 'an instance without its bus stays ready: logins do not need it');
    assert.equal(((await ready.json()) as { bus: string }).bus, 'disconnected');

    const sessions: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const http = await loggedInClient(t, 'down@example.com', 'correct horse battery');
      const claims = await t.app.services.auth.service.verifyAccessToken(http.cookie('access_token') as string);
      sessions.push(claims?.sessionId as string);
      const refreshed = await http.post('/api/v1/login/refresh/');
      assert.equal(refreshed.status, 200, 'refresh works with the bus down');
      const out = await http.post('/api/v1/logout/', { headers: csrfHeaders(http) });
      assert.equal(out.status, 200, 'logout works with the bus down');
    }
    assert.equal(await t.app.services.bus.pending(), 3, 'the three events wait in the outbox');

    await nats.start();
    await eventually(() => t.app.services.bus.state() === 'connected', 20_000, 'automatic reconnection');
    await eventually(async () => (await t.app.services.bus.pending()) === 0, 20_000, 'the outbox drained');
    await eventually(async () => {
      try {
        return (await revokedIds()).length >= 3;
      } catch {
        return false; // the observer is still reconnecting
      }
    }, 20_000, 'the events in the stream');
    assert.deepEqual((await revokedIds()).sort(), [...sessions].sort(), 'every outage event arrived, once each');
  });
});

describe('a bus that is down at start', () => {
  it('does not block start-up, logins or logouts; /ready says connecting; the events wait', async () => {
    // Port 9 (discard) on loopback: nothing answers NATS there.
    const t = await startTestApp({ env: { BUS_URL: 'nats://127.0.0.1:9' }, background: true });
    try {
      await createUser(t, { email: 'early@example.com', password: 'correct horse battery' });
      const http = await loggedInClient(t, 'early@example.com', 'correct horse battery');
      assert.equal((await http.post('/api/v1/logout/', { headers: csrfHeaders(http) })).status, 200);
      const ready = await fetch(`${t.url}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { bus: string }).bus, 'connecting');
      assert.equal(await t.app.services.bus.pending(), 1);
    } finally {
      await t.stop();
    }
  });
});
