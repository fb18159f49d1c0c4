import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { countRows, insertSession, jobContext } from './support.js';

const DAY = 86_400_000;
const PASSWORD = 'logout all password';

describe('logout-all-users: exclusions, dry run, tokens refused, cancellation then resume', () => {
  const clock = new TestClock(Date.UTC(2026, 5, 1));
  let t: TestApp;
  let ids: Record<string, number> = {};
  before(async () => {
    t = await startTestApp({
      clock,
      env: { MAINTENANCE_BATCH_SIZE: '2', MAINTENANCE_BATCH_PAUSE_MS: '0', JOB_LOGOUT_ALL_USERS_EXCLUDE_ROLES: 'admin' },
    });
    ids = {
      root: (await createUser(t, { email: 'root@example.com', password: PASSWORD, role: 'admin' })).id,
      keep: (await createUser(t, { email: 'keep@example.com', password: PASSWORD })).id,
      ann: (await createUser(t, { email: 'ann@example.com', password: PASSWORD })).id,
      ben: (await createUser(t, { email: 'ben@example.com', password: PASSWORD })).id,
    };
  });
  after(async () => t.stop());

  const me = (http: HttpClient) => http.get('/api/v1/me/');
  const logout = (extra = { roles: [] as string[], emails: [] as string[] }, dryRun = false) =>
    t.app.services.jobs.runJob('logout-all-users', { dryRun, trigger: 'cli', caller: {}, params: { excludeRoles: extra.roles, excludeUsers: extra.emails } });

  it('revokes every live session except excluded users; counts exact; old access tokens refused, excluded ones still work', async () => {
    const now = clock.now();
    const clients = {
      root: await loggedInClient(t, 'root@example.com', PASSWORD),
      keep: await loggedInClient(t, 'keep@example.com', PASSWORD),
      ann1: await loggedInClient(t, 'ann@example.com', PASSWORD),
      ann2: await loggedInClient(t, 'ann@example.com', PASSWORD),
      ben: await loggedInClient(t, 'ben@example.com', PASSWORD),
    };
    // Three ended sessions to clean up (idle-expired, absolute-expired, revoked long ago) and one live seeded session.
    await insertSession(t.app, { userId: ids.ben as number, createdAt: now - 10 * DAY, idleExpiresAt: now - 1 });
    await insertSession(t.app, { userId: ids.ann as number, createdAt: now - 31 * DAY, idleExpiresAt: now - DAY, absoluteExpiresAt: now - DAY });
    await insertSession(t.app, { userId: ids.ann as number, createdAt: now - 5 * DAY, revokedAt: now - 2 * DAY });
    await insertSession(t.app, { userId: ids.ben as number, createdAt: now - DAY });
    clock.advance(1000);

    const dry = await logout({ roles: [], emails: ['KEEP@example.com'] }, true);
    assert.equal(dry.status, 'ok');
    assert.deepEqual(dry.counts, { revoked: 0, would_revoke: 4, would_clean: 3, excluded_users: 2 });
    assert.equal(await countRows(t.app, 'sessions'), 9, 'dry run changes nothing');
    await t.app.services.auth.view.refreshNow();
    for (const http of Object.values(clients)) assert.equal((await me(http)).status, 200);

    const run = await logout({ roles: [], emails: ['keep@example.com'] });
    assert.equal(run.status, 'ok');
    assert.deepEqual(run.counts, { revoked: 4, cleaned: 3, excluded_users: 2 });
    await t.app.services.auth.view.refreshNow();
    assert.equal((await me(clients.ann1)).status, 401);
    assert.equal((await me(clients.ann2)).status, 401);
    assert.equal((await me(clients.ben)).status, 401);
    assert.equal((await clients.ben.post('/api/v1/login/refresh/')).status, 401, 'refresh refused too');
    assert.equal((await me(clients.root)).status, 200, 'admin role excluded (config)');
    assert.equal((await me(clients.keep)).status, 200, 'excluded user (flag)');
    assert.equal((await clients.keep.post('/api/v1/login/refresh/')).status, 200, 'excluded user can refresh');
    const live = await t.app.services.storage.db.selectFrom('sessions').select('user_id').where('revoked_at', 'is', null).execute();
    assert.deepEqual(live.map((row) => Number(row.user_id)).sort(), [ids.root, ids.keep].sort());
  });

  it('a later logout without exclusions also ends the excluded users; the earlier mark still binds them', async () => {
    clock.advance(1000);
    const root = await loggedInClient(t, 'root@example.com', PASSWORD);
    const ann = await loggedInClient(t, 'ann@example.com', PASSWORD);
    clock.advance(1000);
    // Config still excludes admins; now exclude nobody else.
    const run = await logout();
    assert.equal(run.counts.revoked, 2, 'keep (old session) and ann');
    await t.app.services.auth.view.refreshNow();
    assert.equal((await me(ann)).status, 401);
    assert.equal((await me(root)).status, 200);
  });

  it('refuses the access tokens on the running instance at once: no view refresh loop, no manual refresh', async () => {
    // Test apps start without background loops (the 1 s view refresh is off), so only the job's own refresh can make this pass.
    clock.advance(1000);
    const ann = await loggedInClient(t, 'ann@example.com', PASSWORD);
    const root = await loggedInClient(t, 'root@example.com', PASSWORD);
    assert.equal((await me(ann)).status, 200);
    clock.advance(1000);
    const run = await logout();
    assert.equal(run.status, 'ok');
    assert.equal((await me(ann)).status, 401, 'refused by the same app immediately after the run');
    assert.equal((await me(root)).status, 200, 'the excluded admin is not');
  });

  it('a dry run leaves the view alone: tokens still accepted', async () => {
    clock.advance(1000);
    const ann = await loggedInClient(t, 'ann@example.com', PASSWORD);
    clock.advance(1000);
    const dry = await logout(undefined, true);
    assert.equal(dry.status, 'ok');
    assert.equal((await me(ann)).status, 200);
  });

  it('cancelled mid-walk, then resumed: every live session revoked, totals add up', async () => {
    clock.advance(1000);
    const now = clock.now();
    // Only these 7 sessions (ids are random): the walk, 2 ids per batch, is then cut after 4 of them whatever their order.
    await t.app.services.storage.db.deleteFrom('sessions').execute();
    for (let i = 0; i < 7; i += 1) await insertSession(t.app, { userId: ids.ann as number, createdAt: now - 1000 });
    clock.advance(1000);
    const { ctx } = jobContext(t.app, { abortAfter: 2 });
    await assert.rejects(t.app.services.maintenance.jobs.logoutAllUsers(ctx), /test cancel/);
    const liveAnn = async () =>
      Number(
        (
          await t.app.services.storage.db
            .selectFrom('sessions')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', ids.ann as number)
            .where('revoked_at', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const leftAfterCancel = await liveAnn();
    assert.ok(leftAfterCancel > 0 && leftAfterCancel < 7, `stopped mid-walk (${leftAfterCancel} left)`);
    clock.advance(1000);
    const rest = await t.app.services.maintenance.jobs.logoutAllUsers(jobContext(t.app).ctx);
    assert.equal(rest.revoked, leftAfterCancel);
    assert.equal(await liveAnn(), 0);
  });
});
