import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createUser } from '../auth/support.js';
import { countRows, insertSession, insertToken, jobContext } from './support.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

describe('flush-expired-tokens and clear-expired-sessions: exact counts, dry run, cancellation and resume', () => {
  const clock = new TestClock(NOW);
  let t: TestApp;
  let userId = 0;
  before(async () => {
    t = await startTestApp({ clock, env: { MAINTENANCE_BATCH_SIZE: '3', MAINTENANCE_BATCH_PAUSE_MS: '0' } });
    userId = (await createUser(t, { email: 'm@example.com', password: 'maintenance pw' })).id;
  });
  after(async () => t.stop());

  /** 11 tokens past expiry + grace, 2 expired within the grace, 4 live; 4 revocations past the cutoff, 1 not. */
  async function seedTokens(): Promise<void> {
    const session = await insertSession(t.app, { userId, createdAt: NOW - DAY });
    for (let i = 0; i < 11; i += 1) await insertToken(t.app, session, userId, NOW - DAY - 1000 - i * 60_000);
    await insertToken(t.app, session, userId, NOW - DAY + 1000);
    await insertToken(t.app, session, userId, NOW - 5);
    for (let i = 0; i < 4; i += 1) await insertToken(t.app, session, userId, NOW + (i + 1) * DAY);
    const db = t.app.services.storage.db;
    for (let i = 0; i < 5; i += 1) {
      await db
        .insertInto('session_revocations')
        .values({ session_id: `rev-${i}`, user_id: userId, recorded_at: NOW - 2 * DAY, expires_at: i < 4 ? NOW - DAY - 1 - i : NOW })
        .execute();
    }
  }

  it('dry run counts and changes nothing; the real run deletes exactly the rows past expiry + grace', async () => {
    await seedTokens();
    const dry = await t.app.services.jobs.runJob('flush-expired-tokens', { dryRun: true, trigger: 'cli', caller: {} });
    assert.equal(dry.status, 'ok');
    assert.deepEqual(dry.counts, { deleted: 0, would_delete: 15, refresh_tokens: 11, session_revocations: 4, revocation_marks: 0 });
    assert.equal(await countRows(t.app, 'refresh_tokens'), 17);
    assert.equal(await countRows(t.app, 'session_revocations'), 5);

    const run = await t.app.services.jobs.runJob('flush-expired-tokens', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(run.status, 'ok');
    assert.deepEqual(run.counts, { deleted: 15, refresh_tokens: 11, session_revocations: 4, revocation_marks: 0 });
    assert.equal(await countRows(t.app, 'refresh_tokens'), 6);
    assert.equal(await countRows(t.app, 'session_revocations'), 1);
    const again = await t.app.services.jobs.runJob('flush-expired-tokens', { dryRun: false, trigger: 'cli', caller: {} });
    assert.deepEqual(again.counts, { deleted: 0, refresh_tokens: 0, session_revocations: 0, revocation_marks: 0 });
  });

  it('deletes every row when more rows than a batch expire in the same millisecond', async () => {
    const db = t.app.services.storage.db;
    await db.deleteFrom('sessions').execute();
    await db.deleteFrom('session_revocations').execute();
    const session = await insertSession(t.app, { userId, createdAt: NOW - DAY });
    const same = NOW - 2 * DAY;
    for (let i = 0; i < 7; i += 1) await insertToken(t.app, session, userId, same);
    for (let i = 0; i < 4; i += 1) await insertToken(t.app, session, userId, same + 1 + i);
    await insertToken(t.app, session, userId, NOW + DAY);
    const run = await t.app.services.jobs.runJob('flush-expired-tokens', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(run.status, 'ok');
    assert.equal(run.counts.refresh_tokens, 11);
    assert.equal(await countRows(t.app, 'refresh_tokens'), 1);
  });

  it('deletes per-user not-before marks older than the absolute session lifetime + grace, never the global one', async () => {
    const db = t.app.services.storage.db;
    const absolute = 30 * DAY;
    const stale = NOW - absolute - DAY - 1;
    const fresh = NOW - absolute - DAY + 1000;
    await db
      .insertInto('revocation_marks')
      .values([
        { subject: 'global', user_id: null, not_before: stale, recorded_at: stale },
        { subject: 'user:901', user_id: 901, not_before: stale, recorded_at: stale },
        { subject: 'exempt:902', user_id: 902, not_before: stale - 5, recorded_at: stale - 5 },
        { subject: 'user:903', user_id: 903, not_before: fresh, recorded_at: fresh },
      ])
      .execute();
    const dry = await t.app.services.jobs.runJob('flush-expired-tokens', { dryRun: true, trigger: 'cli', caller: {} });
    assert.equal(dry.counts.revocation_marks, 2);
    const run = await t.app.services.jobs.runJob('flush-expired-tokens', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(run.counts.revocation_marks, 2);
    const left = (await db.selectFrom('revocation_marks').select('subject').execute()).map((row) => row.subject).sort();
    assert.deepEqual(left, ['global', 'user:903']);
    await db.deleteFrom('revocation_marks').execute();
  });

  it('a run cancelled mid-way stops at a batch boundary; the next run finishes with the same end state and totals', async () => {
    await t.app.services.storage.db.deleteFrom('sessions').execute();
    await t.app.services.storage.db.deleteFrom('session_revocations').execute();
    await seedTokens();
    const { ctx, reports } = jobContext(t.app, { abortAfter: 2 });
    await assert.rejects(t.app.services.maintenance.jobs.flushExpiredTokens(ctx), /test cancel/);
    const doneBeforeCancel = reports.at(-1)?.done ?? 0;
    assert.equal(doneBeforeCancel, 6, 'two batches of three');
    assert.equal(await countRows(t.app, 'refresh_tokens'), 17 - 6);
    const sweeps = await t.app.services.storage.db.selectFrom('maintenance_sweeps').selectAll().where('table_name', '=', 'refresh_tokens').executeTakeFirstOrThrow();
    assert.equal(sweeps.status, 'cancelled');
    assert.equal(Number(sweeps.rows), 6);

    const resumed = await t.app.services.maintenance.jobs.flushExpiredTokens(jobContext(t.app).ctx);
    assert.equal((resumed.refresh_tokens ?? 0) + doneBeforeCancel, 11, 'no row lost, none counted twice');
    assert.equal(await countRows(t.app, 'refresh_tokens'), 6);
    assert.equal(await countRows(t.app, 'session_revocations'), 1);
  });

  it('clear-expired-sessions deletes idle-expired, absolute-expired and long-revoked sessions only (with their tokens)', async () => {
    const db = t.app.services.storage.db;
    await db.deleteFrom('sessions').execute();
    const kept: string[] = [];
    const gone: string[] = [];
    for (let i = 0; i < 3; i += 1) gone.push(await insertSession(t.app, { userId, createdAt: NOW - 10 * DAY, idleExpiresAt: NOW - i - 1 }));
    for (let i = 0; i < 2; i += 1) gone.push(await insertSession(t.app, { userId, createdAt: NOW - 31 * DAY, idleExpiresAt: NOW - DAY, absoluteExpiresAt: NOW - DAY }));
    gone.push(await insertSession(t.app, { userId, createdAt: NOW - 3 * DAY, idleExpiresAt: NOW, absoluteExpiresAt: NOW + DAY }));
    for (let i = 0; i < 2; i += 1) gone.push(await insertSession(t.app, { userId, createdAt: NOW - 3 * DAY, revokedAt: NOW - DAY - 1 }));
    kept.push(await insertSession(t.app, { userId, createdAt: NOW - 3 * DAY, revokedAt: NOW - DAY + 1 }));
    for (let i = 0; i < 4; i += 1) kept.push(await insertSession(t.app, { userId, createdAt: NOW - DAY }));
    for (const id of [...gone, ...kept]) await insertToken(t.app, id, userId, NOW + DAY);

    const dry = await t.app.services.jobs.runJob('clear-expired-sessions', { dryRun: true, trigger: 'cli', caller: {} });
    assert.deepEqual(dry.counts, { deleted: 0, would_delete: 8 });
    assert.equal(await countRows(t.app, 'sessions'), 13);

    const { ctx } = jobContext(t.app, { abortAfter: 2 });
    await assert.rejects(t.app.services.maintenance.jobs.clearExpiredSessions(ctx), /test cancel/);
    const afterCancel = await countRows(t.app, 'sessions');
    assert.ok(afterCancel < 13 && afterCancel > 5, `cancelled mid-way (${afterCancel} rows left)`);
    const rest = await t.app.services.maintenance.jobs.clearExpiredSessions(jobContext(t.app).ctx);
    assert.equal((rest.deleted ?? 0) + (13 - afterCancel), 8);

    const left = (await db.selectFrom('sessions').select('id').execute()).map((row) => row.id).sort();
    assert.deepEqual(left, [...kept].sort());
    assert.equal(await countRows(t.app, 'refresh_tokens'), kept.length, 'tokens of deleted sessions went with them');
  });
});
