import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, type Config } from '../../src/config/index.js';

const load = (env: Record<string, string>): Config => loadConfig({ env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'curfew-config-')), ...env } });

describe('TRUST_PROXY (issue 16 #7): hops or CIDRs, never "trust the leftmost"', () => {
  const cases: Array<[string | undefined, Config['trustProxy']]> = [
    [undefined, false],
    ['false', false],
    ['0', false],
    ['true', 1],
    ['on', 1],
    ['2', 2],
    ['10.0.0.0/8', ['10.0.0.0/8']],
    ['10.0.0.0/8, 192.168.1.7 ,loopback', ['10.0.0.0/8', '192.168.1.7', 'loopback']],
    ['fd00::/8,uniquelocal', ['fd00::/8', 'uniquelocal']],
  ];
  for (const [raw, expected] of cases) {
    it(`${raw ?? '(unset)'} -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(load(raw === undefined ? {} : { TRUST_PROXY: raw }).trustProxy, expected);
    });
  }
  for (const raw of ['maybe', '10.0.0.0/33', '300.1.1.1', '21', 'example.com']) {
    it(`refuses ${raw}, naming TRUST_PROXY`, () => {
      assert.throws(() => load({ TRUST_PROXY: raw }), (error: unknown) => error instanceof ConfigError && error.setting === 'TRUST_PROXY');
    });
  }
});

describe('CRON_THROTTLE tiers (issue 13 §4) and the default (issue 14)', () => {
  it('defaults to 30 per 10 minutes: a once-a-minute caller plus retries and a manual call fit', () => {
    assert.deepEqual(load({}).cron.throttle, [{ max: 30, windowMs: 600_000 }]);
  });
  const cases: Array<[Record<string, string>, Config['cron']['throttle']]> = [
    [{ CRON_THROTTLE: '10/10m,1/1m' }, [{ max: 10, windowMs: 600_000 }, { max: 1, windowMs: 60_000 }]],
    [{ CRON_THROTTLE: '10/600' }, [{ max: 10, windowMs: 600_000 }]],
    [{ CRON_THROTTLE: '100/1h, 5/30s, 2/m' }, [{ max: 100, windowMs: 3_600_000 }, { max: 5, windowMs: 30_000 }, { max: 2, windowMs: 60_000 }]],
    [{ CRON_THROTTLE_MAX: '10' }, [{ max: 10, windowMs: 600_000 }]],
    [{ CRON_THROTTLE_MAX: '3', CRON_THROTTLE_WINDOW: '60' }, [{ max: 3, windowMs: 60_000 }]],
  ];
  for (const [env, expected] of cases) {
    it(`${JSON.stringify(env)} -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(load(env).cron.throttle, expected);
    });
  }
  const failures: Array<[Record<string, string>, string]> = [
    [{ CRON_THROTTLE: '10' }, 'CRON_THROTTLE'],
    [{ CRON_THROTTLE: '10/10x' }, 'CRON_THROTTLE'],
    [{ CRON_THROTTLE: '0/1m' }, 'CRON_THROTTLE'],
    [{ CRON_THROTTLE: '10/0s' }, 'CRON_THROTTLE'],
    [{ CRON_THROTTLE: '10/10m,,1/1m' }, 'CRON_THROTTLE'],
    [{ CRON_THROTTLE: '10/1m,5/60s' }, 'CRON_THROTTLE'],
    [{ CRON_THROTTLE: '10/10m', CRON_THROTTLE_MAX: '5' }, 'CRON_THROTTLE'],
    [{ CRON_THROTTLE_MAX: 'ten' }, 'CRON_THROTTLE_MAX'],
  ];
  for (const [env, setting] of failures) {
    it(`refuses ${JSON.stringify(env)}, naming ${setting}`, () => {
      assert.throws(
        () => load(env),
        (error: unknown) => error instanceof ConfigError && error.setting === setting && error.message.startsWith(setting),
      );
    });
  }
});

describe('presence and login settings', () => {
  it('defaults: 20 sockets per user, self-and-admins visibility, a 1 s first lock', () => {
    const config = load({});
    assert.equal(config.presence.maxConnectionsPerUser, 20);
    assert.equal(config.presence.visibility, 'self-and-admins');
    assert.equal(config.auth.loginThrottle.accountFirstLockMs, 1000);
  });
  it('refuses an unknown PRESENCE_VISIBILITY, naming it', () => {
    assert.throws(() => load({ PRESENCE_VISIBILITY: 'everyone' }), (error: unknown) => error instanceof ConfigError && error.setting === 'PRESENCE_VISIBILITY');
  });
});
