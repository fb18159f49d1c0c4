import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { claimLaunch } from '../../src/trigger-client/lock.js';
import { TestClock } from '../../src/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'curfew-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the min-interval launch guard', () => {
  it('launches, skips inside the interval, launches again after it', async () => {
    const clock = new TestClock(Date.now());
    const options = { lockFile: join(dir, 'a.lock'), minIntervalMs: 59_000, now: () => clock.now() };
    assert.deepEqual(await claimLaunch(options), { launch: true });
    clock.advance(58_000);
    const second = await claimLaunch(options);
    assert.equal(second.launch, false);
    if (!second.launch) assert.match(second.reason, /58s ago/);
    clock.advance(1_000);
    assert.deepEqual(await claimLaunch(options), { launch: true });
  });

  it('20 concurrent claims: exactly one launches', async () => {
    const options = { lockFile: join(dir, 'b.lock'), minIntervalMs: 59_000, now: Date.now };
    const decisions = await Promise.all(Array.from({ length: 20 }, () => claimLaunch(options)));
    assert.equal(decisions.filter((decision) => decision.launch).length, 1);
  });

  it('a mutex held by a live launch makes others skip; a stale one (crash) is taken over', async () => {
    const lockFile = join(dir, 'c.lock');
    writeFileSync(lockFile, '{"pid":1}');
    const fresh = await claimLaunch({ lockFile, minIntervalMs: 1_000, now: Date.now });
    assert.equal(fresh.launch, false);
    if (!fresh.launch) assert.match(fresh.reason, /another launch holds/);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lockFile, old, old);
    assert.deepEqual(await claimLaunch({ lockFile, minIntervalMs: 1_000, now: Date.now }), { launch: true });
  });

  it('a stale mutex met by 20 concurrent claims: exactly one takes it over and launches', async () => {
    const lockFile = join(dir, 'd.lock');
    writeFileSync(lockFile, '{"pid":1}');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lockFile, old, old);
    const options = { lockFile, minIntervalMs: 59_000, now: Date.now };
    const decisions = await Promise.all(Array.from({ length: 20 }, () => claimLaunch(options)));
    assert.equal(decisions.filter((decision) => decision.launch).length, 1);
  });
});
