import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestClock, type Clock } from '../../src/clock.js';
import { JobLeasesRepository } from '../../src/db/repositories/job-leases.js';
import { acquireLease } from '../../src/jobs/lease.js';
import { createTestDatabase, testEngine, type TestDatabase } from '../helpers/database.js';
import { eventually, job, openJobsFixture, type JobsFixture } from './fixture.js';

const START = Date.UTC(2026, 2, 5, 10, 0, 0);
const TTL = 20_000;

/**
 * Issue 13 (found by the simulator's clock-skew fault): leases compared each
 * instance's own clock with lease times written by other instances' clocks.
 * An instance whose clock ran ahead by more than TTL − one heartbeat saw a
 * live lease as expired and started a second body of the same job; one whose
 * clock ran behind honoured a crashed holder's lease for as long as its skew.
 * Leases are now judged on the database's clock only.
 */
describe(`leases are judged on the database's clock, not the instance's (${testEngine()})`, () => {
  let database: TestDatabase;
  const db = new TestClock(START);
  const skewed = (ms: number): Clock => ({ now: () => db.now() + ms });
  let started = 0;
  let release: () => void = () => undefined;
  const definition = job({
    name: 'long',
    run: async () => {
      started += 1;
      await new Promise<void>((resolve) => (release = resolve));
      return { done: 1 };
    },
  });
  const fixtures: JobsFixture[] = [];
  const instance = async (id: string, clock: Clock) => {
    const fixture = await openJobsFixture({ clock, databaseClock: db, database, instanceId: id, definitions: [definition], service: { lease: { ttlMs: TTL, heartbeatMs: 5_000 } } });
    fixtures.push(fixture);
    return fixture;
  };
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    release();
    for (const fixture of fixtures) await fixture.close();
    await database.drop();
  });

  it('an instance whose clock runs 2 minutes ahead does not take a live lease: its run is skipped, the body runs once', async () => {
    const a = await instance('a', db);
    const ahead = await instance('ahead', skewed(120_000));
    const running = a.service.runJob('long', { dryRun: false, trigger: 'cli', caller: {} });
    await eventually(() => started > 0);
    const second = await ahead.service.runJob('long', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(second.status, 'skipped');
    assert.match(second.reason ?? '', /lease held by a/);
    assert.equal(started, 1, 'one body, not two');
    assert.equal((await ahead.leases.current('long'))?.holder, 'a');
    release();
    assert.equal((await running).status, 'ok');
  });

  it('an instance whose clock runs 2 minutes behind takes over a crashed holder\'s lease once it expires on the database\'s clock', async () => {
    const behind = await instance('behind', skewed(-120_000));
    db.set(START + 3_600_000);
    const dead = await acquireLease({ store: behind.leases, job: 'long', holder: 'crashed', ttlMs: TTL });
    assert.ok(dead.acquired);
    // Silent for longer than two heartbeats and past its TTL, by the database's clock (the instance's says 95 s earlier).
    db.advance(TTL + 5_000);
    started = 0;
    const run = behind.service.runJob('long', { dryRun: false, trigger: 'cli', caller: {} });
    await eventually(() => started > 0);
    assert.equal((await behind.leases.current('long'))?.holder, 'behind');
    release();
    assert.equal((await run).status, 'ok');
  });
});

describe(`lease times come from the database itself when no clock stands for it (${testEngine()})`, () => {
  let fixture: JobsFixture;
  let leases: JobLeasesRepository;
  before(async () => {
    fixture = await openJobsFixture({ clock: new TestClock(START), definitions: [] });
    leases = new JobLeasesRepository(fixture.storage);
  });
  after(() => fixture.close());

  it('reads the database\'s clock in SQL: epoch milliseconds, the same in every statement of a lease', async () => {
    const empty = await leases.read('y');
    assert.equal(empty.lease, undefined);
    assert.ok(Number.isInteger(empty.now) && Math.abs(empty.now - Date.now()) < 3_600_000, `the database's time in epoch ms, got ${empty.now}`);
    assert.equal(await leases.tryAcquire('y', 'a', 60_000), true);
    assert.equal(await leases.tryAcquire('y', 'b', 60_000), false, 'a live lease is not taken');
    const { lease, now } = await leases.read('y');
    assert.ok(lease !== undefined && lease.holder === 'a');
    assert.equal(lease.lease_until - lease.acquired_at, 60_000);
    assert.equal(lease.renewed_at, lease.acquired_at);
    assert.ok(now >= lease.acquired_at && now < lease.lease_until);
    assert.equal((await leases.current('y'))?.holder, 'a');
    assert.equal(await leases.renew('y', 'b', 60_000), false);
    assert.equal(await leases.renew('y', 'a', 60_000), true);
    assert.deepEqual(await acquireLease({ store: leases, job: 'y', holder: 'b', ttlMs: 60_000 }), { acquired: false, holder: 'a' });
    await leases.release('y', 'a');
    assert.equal(await leases.current('y'), undefined);
  });

  it('an expired lease (by the database\'s clock) is taken over and names its previous holder', async () => {
    await fixture.storage.db.insertInto('job_leases').values({ job: 'z', holder: 'old', lease_until: 1_000, acquired_at: 0, renewed_at: 0 }).execute();
    assert.equal(await leases.current('z'), undefined);
    const taken = await acquireLease({ store: leases, job: 'z', holder: 'new', ttlMs: 60_000 });
    assert.ok(taken.acquired && taken.previousHolder === 'old');
    await taken.lease.release();
  });
});
