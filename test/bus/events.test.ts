import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { sessionRevoked } from '../../src/bus/events.js';
import { OutboxRecorder } from '../../src/db/repositories/bus-outbox.js';
import { startTestApp, TEST_SECRET_KEY, BASE_TEST_ENV, type TestApp } from '../helpers/app.js';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';
import { EventSink, eventually, MACHINE_NATS, natsUnavailable, testPrefix } from './support.js';

const skip = await natsUnavailable();
if (skip) console.log(`# skipped: ${skip}`);

describe('revocation events on the bus', { skip: skip ?? false }, () => {
  const prefix = testPrefix();
  const env = { BUS_URL: MACHINE_NATS, BUS_SUBJECT_PREFIX: prefix, BUS_OUTBOX_POLL_MS: '50' };
  let t: TestApp;
  let nc: NatsConnection;
  let sink: EventSink;
  let userId: number;
  let adminId: number;

  before(async () => {
    nc = await connect({ servers: MACHINE_NATS });
    sink = new EventSink(nc, `${prefix}.events.>`);
    await nc.flush();
    t = await startTestApp({ env, background: true });
    userId = Number((await createUser(t, { email: 'ev@example.com', password: 'correct horse battery' })).id);
    adminId = Number((await createUser(t, { email: 'boss@example.com', password: 'correct horse battery', role: 'admin' })).id);
    await eventually(() => t.app.services.bus.state() === 'connected', 10_000, 'the app on the bus');
  });

  after(async () => {
    sink?.close();
    await nc?.close();
    await t?.stop();
  });

  it('logout publishes session.revoked {session_id, user_id, reason} after the commit', async () => {
    const http = await loggedInClient(t, 'ev@example.com', 'correct horse battery');
    const claims = await t.app.services.auth.service.verifyAccessToken(http.cookie('access_token') as string);
    const response = await http.post('/api/v1/logout/', { headers: csrfHeaders(http) });
    assert.equal(response.status, 200, response.text);
    const event = await sink.next(`${prefix}.events.session.revoked`, (data) => data.session_id === claims?.sessionId);
    assert.deepEqual(event.data, { session_id: claims?.sessionId, user_id: userId, reason: 'logout' });
    assert.match(event.id ?? '', /^curfew-\d+-\d+$/, 'a Nats-Msg-Id header for de-duplication');
    assert.equal(await t.app.services.bus.pending(), 0, 'the outbox is empty once published');
  });

  it('logout-everywhere (admin) publishes user.logged_out_everywhere {user_id}', async () => {
    await loggedInClient(t, 'ev@example.com', 'correct horse battery');
    const admin = await loggedInClient(t, 'boss@example.com', 'correct horse battery');
    const response = await admin.post(`/api/v1/admin/users/${userId}/logout/`, { headers: csrfHeaders(admin) });
    assert.equal(response.status, 200, response.text);
    const event = await sink.next(`${prefix}.events.user.logged_out_everywhere`, (data) => data.user_id === userId);
    assert.equal(event.data.user_id, userId);
    assert.match(String(event.data.before), /Z$/);
  });

  it('logout-all-users publishes exactly one sessions.revoked_all {before, excluded_roles}, not one per session', async () => {
    for (let i = 0; i < 5; i += 1) await loggedInClient(t, 'ev@example.com', 'correct horse battery');
    const revokedBefore = sink.on(`${prefix}.events.session.revoked`).length;
    await t.app.services.jobs.runJob('logout-all-users', { dryRun: false, trigger: 'cli', caller: {}, params: { excludeRoles: ['admin'], excludeUsers: [] } });
    const event = await sink.next(`${prefix}.events.sessions.revoked_all`);
    assert.deepEqual(event.data.excluded_roles, ['admin']);
    assert.deepEqual(event.data.excluded_user_ids, [adminId]);
    assert.match(String(event.data.before), /Z$/);
    // The event comes from the transaction that set the marks; nothing else is queued behind it.
    await eventually(async () => (await t.app.services.bus.pending()) === 0, 10_000, 'an empty outbox');
    assert.equal(sink.on(`${prefix}.events.sessions.revoked_all`).length, 1);
    assert.equal(sink.on(`${prefix}.events.session.revoked`).length, revokedBefore, 'no per-session events');
  });

  it('a key rotation made by another process (the CLI) is published by the server within its poll', async () => {
    const result = spawnSync(process.execPath, ['bin/curfew.js', 'keys', 'rotate'], {
      env: { PATH: process.env.PATH ?? '', ...BASE_TEST_ENV, ...t.database.env, ...env, SECRET_KEY: TEST_SECRET_KEY },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    const kid = /New signing key: (\S+)/.exec(result.stdout)?.[1];
    assert.ok(kid);
    const event = await sink.next(`${prefix}.events.keys.rotated`, (data) => data.kid === kid);
    assert.deepEqual(event.data, { kid });
  });

  it('a rolled-back transaction leaves no event behind', async () => {
    const recorder = new OutboxRecorder();
    let ids: number[] = [];
    await assert.rejects(
      t.app.services.storage.db.transaction().execute(async (trx) => {
        const recorded = await recorder.record(trx, [sessionRevoked('rolled-back', userId, 'logout')], Date.now());
        ids = recorded.rows.map((row) => row.id);
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    assert.equal(ids.length, 1, 'the row was written inside the transaction');
    // Look the row up by its id: the pending count also moves when the app's publisher sends other tests' rows.
    const left = await t.app.services.storage.db.selectFrom('bus_outbox').select('id').where('id', 'in', ids).execute();
    assert.deepEqual(left, [], 'no outbox row survived the rollback');
  });

  it('the recorder claims a commit\'s rows at insert for the direct send, and only while the publisher can send', async () => {
    const recorder = new OutboxRecorder();
    let claimMs: number | undefined = 5000;
    const committed: number[][] = [];
    recorder.listen({ claimMs: () => claimMs, committed: (rows) => committed.push(rows.map((row) => row.id)) });
    const now = Date.now();
    const db = t.app.services.storage.db;
    const claimed = await db.transaction().execute((trx) => recorder.record(trx, [sessionRevoked('direct-a', userId, 'logout')], now));
    claimMs = undefined;
    const unclaimed = await recorder.record(db, [sessionRevoked('direct-b', userId, 'logout')], now);
    assert.equal(claimed.rows[0]?.claimed_until, now + 5000, 'claimed by this instance: no other poll takes it');
    assert.equal(unclaimed.rows[0]?.claimed_until, null, 'left to a pass');
    assert.equal(typeof claimed.rows[0]?.id, 'number');
    recorder.committed(claimed);
    assert.deepEqual(committed, [[claimed.rows[0]?.id]], 'the committed rows go to the publisher as recorded');
    await db.deleteFrom('bus_outbox').where('id', 'in', [claimed.rows[0]?.id as number, unclaimed.rows[0]?.id as number]).execute();
  });

  it('publishUserDeactivated (for the deactivation feature, wired at merge) publishes user.deactivated', async () => {
    await t.app.services.bus.publishUserDeactivated(userId);
    const event = await sink.next(`${prefix}.events.user.deactivated`);
    assert.deepEqual(event.data, { user_id: userId });
  });
});
