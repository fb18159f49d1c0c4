import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { DEFAULT_LEASE_TIMING } from '../../src/jobs/lease.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../helpers/app.js';

const load = (env: Record<string, string>) => loadConfig({ env: { ...BASE_TEST_ENV, DATABASE_URL: 'sqlite::memory:', ...env }, secretKey: TEST_SECRET_KEY });

describe('lease timing settings (issue 16 #8)', () => {
  it('defaults: a 20 s lease renewed every 5 s, and seed 002\'s 600 s as the longest /cron/run', () => {
    const { scheduler } = load({});
    assert.deepEqual([scheduler.leaseTtlMs, scheduler.leaseHeartbeatMs, scheduler.cronRunMaxMs], [20_000, 5_000, 600_000]);
  });

  it('the runner\'s fallback (DEFAULT_LEASE_TIMING, used when no timing is passed) is the configuration\'s default', () => {
    const { scheduler } = load({});
    assert.deepEqual(DEFAULT_LEASE_TIMING, { ttlMs: scheduler.leaseTtlMs, heartbeatMs: scheduler.leaseHeartbeatMs });
  });

  it('reads durations; a shorter TTL brings the default heartbeat down to a third of it', () => {
    const { scheduler } = load({ SCHEDULER_LEASE_TTL: '6s', CRON_RUN_MAX_TIME: '2m' });
    assert.deepEqual([scheduler.leaseTtlMs, scheduler.leaseHeartbeatMs, scheduler.cronRunMaxMs], [6_000, 2_000, 120_000]);
  });

  const bad: Array<[string, Record<string, string>, string]> = [
    ['a TTL that is not a duration', { SCHEDULER_LEASE_TTL: 'soon' }, 'SCHEDULER_LEASE_TTL'],
    ['a TTL too short to renew', { SCHEDULER_LEASE_TTL: '100ms' }, 'SCHEDULER_LEASE_TTL'],
    ['a heartbeat that leaves no room for a missed beat', { SCHEDULER_LEASE_TTL: '30s', SCHEDULER_LEASE_HEARTBEAT: '15s' }, 'SCHEDULER_LEASE_HEARTBEAT'],
    ['a maximum run time under a second', { CRON_RUN_MAX_TIME: '10ms' }, 'CRON_RUN_MAX_TIME'],
  ];
  for (const [name, env, setting] of bad) {
    it(`refuses ${name}, naming ${setting}`, () => {
      assert.throws(() => load(env), (error: unknown) => error instanceof ConfigError && error.setting === setting);
    });
  }
});
