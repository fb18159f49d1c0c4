import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, type Config } from '../../src/config/index.js';

const load = (env: Record<string, string> = {}): Config => loadConfig({ env: { NODE_ENV: 'test', ...env }, secretKey: 'x'.repeat(32) });

/** Every key path of an object, arrays included (`cron.throttle.0.windowMs`). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)]);
}

/**
 * Issue 15 §4: inside Config every duration is milliseconds, named `...Ms`;
 * the variables keep their documented units (seconds, minutes, days) and are
 * converted once, where they are read.
 */
describe('durations inside Config', () => {
  it('no field is named for another unit', () => {
    const otherUnits = keyPaths(load()).filter((path) => /(Seconds|Secs|Minutes|Hours|Days)$/.test(path));
    assert.deepEqual(otherUnits, []);
  });

  const cases: Array<[Record<string, string>, (config: Config) => number, number]> = [
    [{ ACCESS_TOKEN_TTL: '60' }, (c) => c.auth.accessTtlMs, 60_000],
    [{ LOGIN_ACCOUNT_FIRST_LOCK: '2' }, (c) => c.auth.loginThrottle.accountFirstLockMs, 2_000],
    [{ ACCOUNT_MAIL_WINDOW: '120' }, (c) => c.accounts.mailThrottle.windowMs, 120_000],
    [{ INACTIVITY_MINUTES: '5' }, (c) => c.inactivityMs, 300_000],
    [{ CRON_RUNS_RETENTION_DAYS: '2' }, (c) => c.scheduler.runRetentionMs, 172_800_000],
    [{ CRON_THROTTLE_MAX: '3', CRON_THROTTLE_WINDOW: '60' }, (c) => c.cron.throttle[0]?.windowMs ?? -1, 60_000],
    [{ SHUTDOWN_GRACE: '3' }, (c) => c.http.shutdownGraceMs, 3_000],
  ];
  for (const [env, read, expected] of cases) {
    it(`${JSON.stringify(env)} -> ${expected} ms`, () => {
      assert.equal(read(load(env)), expected);
    });
  }

  it('a bound is reported in the unit the variable is written in', () => {
    assert.throws(
      () => load({ INACTIVITY_MINUTES: '0' }),
      (error: unknown) => error instanceof ConfigError && /INACTIVITY_MINUTES/.test(error.message) && /at least 1, got 0/.test(error.message),
    );
  });
});
