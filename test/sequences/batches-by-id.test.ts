import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CompiledQuery, type KyselyPlugin } from 'kysely';
import { TestClock } from '../../src/clock.js';
import type { Storage } from '../../src/db/database.js';
import { SequenceEnrollmentsRepository } from '../../src/db/repositories/sequence-enrollments.js';
import { SequenceSendsRepository } from '../../src/db/repositories/sequence-sends.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { testEngine } from '../helpers/database.js';
import { seedUsers, twoSteps } from './support.js';

/**
 * The drain's batched writes find their rows by id and apply a guard to each:
 * `advance` moves only active enrollments, `markSent` only sends this holder
 * still has `sending` (or that became `unknown`). Regression (issue 10,
 * "Speed"): on SQLite the planner went through the index led by the guarded
 * column instead of the id list, visiting every active enrollment (every
 * `sending` and `unknown` send) for each batch of 200.
 */
describe(`sequence batches by id on ${testEngine()}`, () => {
  let t: TestApp;
  let clock: TestClock;
  /** Every statement run through `capturing`, as compiled. */
  const statements: CompiledQuery[] = [];

  beforeEach(async () => {
    statements.length = 0;
    clock = new TestClock(Date.UTC(2026, 0, 1));
    t = await startTestApp({ clock });
    await t.app.services.sequences.create(twoSteps());
  });
  afterEach(async () => {
    await t.stop();
  });

  /** The app's storage with every statement recorded as it is compiled. */
  function capturing(): Storage {
    const { storage } = t.app.services;
    const executor = storage.db.getExecutor();
    const plugin: KyselyPlugin = {
      transformQuery({ node, queryId }) {
        statements.push(executor.compileQuery(node, queryId));
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    return { ...storage, db: storage.db.withPlugin(plugin) };
  }

  async function enrollments() {
    return t.app.services.storage.db
      .selectFrom('sequence_enrollments')
      .select(['id', 'user_id', 'status', 'next_step', 'due_at'])
      .orderBy('id')
      .execute();
  }

  it('moves the active enrollments of a batch, and leaves one stopped or unsubscribed meanwhile where it is', async () => {
    await seedUsers(t.app, 5);
    for (let i = 0; i < 5; i++) await t.app.services.sequences.enroll('welcome', { email: `u${i}@example.com` });
    const rows = await enrollments();
    const repository = new SequenceEnrollmentsRepository(capturing());
    const now = clock.now();
    // Between the claim and the `sent` write: one user unsubscribes, an operator stops another enrollment.
    await repository.unsubscribeUser(Number(rows[1]?.user_id), now);
    assert.equal(await repository.stop(Number(rows[3]?.id), now), true);

    clock.advance(60_000);
    await repository.advance(
      rows.map((row) => Number(row.id)),
      clock.now(),
    );

    const after = await enrollments();
    const day = 24 * 60 * 60 * 1000;
    assert.deepEqual(
      after.map((row) => [row.status, Number(row.next_step), row.due_at === null ? null : Number(row.due_at)]),
      [
        ['active', 2, clock.now() + day],
        ['unsubscribed', 1, null],
        ['active', 2, clock.now() + day],
        ['stopped', 1, null],
        ['active', 2, clock.now() + day],
      ],
    );
    // The last step sent: the enrollment completes (and stays out of every due scan).
    await repository.advance([Number(rows[0]?.id)], clock.now());
    assert.deepEqual((await enrollments())[0], { ...after[0], status: 'completed', next_step: 3, due_at: null });
  });

  const sqliteOnly = testEngine() === 'sqlite' ? {} : { skip: 'PostgreSQL plans from its statistics' };
  it('finds the batch by id, not through the status index (SQLite plan)', sqliteOnly, async () => {
    await seedUsers(t.app, 3);
    for (let i = 0; i < 3; i++) await t.app.services.sequences.enroll('welcome', { email: `u${i}@example.com` });
    const ids = (await enrollments()).map((row) => Number(row.id));
    await new SequenceEnrollmentsRepository(capturing()).advance(ids, clock.now());
    const advance = statements.find((statement) => statement.sql.startsWith('update "sequence_enrollments"'));
    assert.ok(advance, 'the advance statement was captured');
    const plan = await t.app.services.storage.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${advance.sql}`, [...advance.parameters]));
    const outer = plan.rows.map((row) => row.detail).filter((detail) => detail.includes('sequence_enrollments'));
    assert.deepEqual(outer, ['SEARCH sequence_enrollments USING INTEGER PRIMARY KEY (rowid=?)'], JSON.stringify(plan.rows));
  });

  it('markSent settles only the sends this holder still has, or that became unknown, in one batch', async () => {
    await seedUsers(t.app, 4);
    for (let i = 0; i < 4; i++) await t.app.services.sequences.enroll('welcome', { email: `u${i}@example.com` });
    const sends = new SequenceSendsRepository(capturing());
    const ids = await sends.claimDue({ now: clock.now(), holder: 'a', leaseMs: 60_000, limit: 10 });
    assert.equal(ids.length, 4);
    const [mine, taken, expired, failed] = ids as [number, number, number, number];
    const { db } = t.app.services.storage;
    // Meanwhile: another holder has one (its lease ran out, an operator said retry, another instance claimed it),
    // one became `unknown` (lease expired), one was settled `failed`.
    await db.updateTable('sequence_sends').set({ locked_by: 'b' }).where('id', '=', taken).execute();
    await db.updateTable('sequence_sends').set({ state: 'unknown', locked_by: null, lease_until: null }).where('id', '=', expired).execute();
    await db.updateTable('sequence_sends').set({ state: 'failed', locked_by: null, lease_until: null }).where('id', '=', failed).execute();

    // A full batch's worth of ids (the plan depends on the list's length): ids of no row are harmless.
    const batch = [...ids, ...Array.from({ length: 196 }, (_, i) => 1_000_000 + i)];
    const moved = await sends.markSent(batch, 'a', clock.now());

    const byId = new Map((await db.selectFrom('sequence_sends').select(['id', 'enrollment_id', 'state', 'locked_by']).execute()).map((row) => [Number(row.id), row]));
    assert.deepEqual(
      [mine, taken, expired, failed].map((id) => [byId.get(id)?.state, byId.get(id)?.locked_by]),
      [
        ['sent', null],
        ['sending', 'b'],
        ['sent', null],
        ['failed', null],
      ],
    );
    assert.deepEqual(moved.sort(), [mine, expired].map((id) => Number(byId.get(id)?.enrollment_id)).sort());
    if (t.app.services.storage.engine === 'sqlite') {
      const statement = statements.find((compiled) => compiled.sql.startsWith('update "sequence_sends" set "state" = ?, "sent_at"'));
      assert.ok(statement, 'the markSent statement was captured');
      const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${statement.sql}`, [...statement.parameters]));
      assert.deepEqual(
        plan.rows.map((row) => row.detail),
        ['SEARCH sequence_sends USING INTEGER PRIMARY KEY (rowid=?)'],
      );
    }
  });
});
