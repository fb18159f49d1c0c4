import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'curfew-config-'));

describe('loadConfig', () => {
  it('runs with zero configuration in development and generates a 0600 secret once', () => {
    const dir = tempDir();
    const first = loadConfig({ env: { DATA_DIR: dir } });
    assert.equal(first.host, '127.0.0.1');
    assert.equal(first.port, 8000);
    assert.deepEqual(first.database, { kind: 'sqlite', path: join(dir, 'curfew.db') });
    assert.equal(first.secretKeySource, 'generated');
    assert.equal(statSync(join(dir, 'secret_key')).mode & 0o777, 0o600);
    const second = loadConfig({ env: { DATA_DIR: dir } });
    assert.equal(second.secretKeySource, 'file');
    assert.equal(second.secretKey, first.secretKey);
    assert.deepEqual(first.cron.secrets, [], 'the cron secret is never generated');
    assert.ok(Object.isFrozen(first.auth.argon2));
  });

  const failures: Array<[string, Record<string, string>, string]> = [
    ['missing SECRET_KEY in production', { NODE_ENV: 'production' }, 'SECRET_KEY'],
    ['short SECRET_KEY in production', { NODE_ENV: 'production', SECRET_KEY: 'short' }, 'SECRET_KEY'],
    ['short cron secret in production', { NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(32), CRON_SECRET: 'short' }, 'CRON_SECRET'],
    ['literal undefined cron secret', { CRON_TOKEN: 'undefined' }, 'CRON_TOKEN'],
    ['bad port', { PORT: 'eighty' }, 'PORT'],
    ['port out of range', { PORT: '70000' }, 'PORT'],
    ['bad boolean', { COOKIE_SECURE: 'maybe' }, 'COOKIE_SECURE'],
    ['bad database url', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    ['bad origin', { ALLOWED_ORIGINS: 'https://a.example/path' }, 'ALLOWED_ORIGINS'],
    ['bad smtp url', { SMTP_URL: 'http://mail' }, 'SMTP_URL'],
    ['bad NODE_ENV', { NODE_ENV: 'staging' }, 'NODE_ENV'],
    ['zero sequence messages per SMTP connection', { SEQUENCE_SMTP_MAX_MESSAGES: '0' }, 'SEQUENCE_SMTP_MAX_MESSAGES'],
    ['a non-numeric sequence send concurrency', { SEQUENCE_SEND_CONCURRENCY: 'lots' }, 'SEQUENCE_SEND_CONCURRENCY'],
    ['an instance timeout shorter than two heartbeats', { PRESENCE_HEARTBEAT_MS: '20000', PRESENCE_INSTANCE_TIMEOUT_MS: '30000' }, 'PRESENCE_INSTANCE_TIMEOUT_MS'],
  ];
  for (const [name, env, setting] of failures) {
    it(`refuses ${name}, naming ${setting}`, () => {
      assert.throws(
        () => loadConfig({ env: { DATA_DIR: tempDir(), ...env } }),
        (error: unknown) => error instanceof ConfigError && error.setting === setting && error.message.startsWith(setting),
      );
    });
  }

  it('sends four sequence messages per SMTP connection at once unless SEQUENCE_SEND_CONCURRENCY says otherwise', () => {
    assert.equal(loadConfig({ env: { DATA_DIR: tempDir(), SEQUENCE_SMTP_CONNECTIONS: '3' } }).sequences.sendConcurrency, 12);
    assert.equal(loadConfig({ env: { DATA_DIR: tempDir(), SEQUENCE_SEND_CONCURRENCY: '7' } }).sequences.sendConcurrency, 7);
    assert.equal(loadConfig({ env: { DATA_DIR: tempDir() } }).sequences.smtpMaxMessages, 1000);
  });

  it('brackets an IPv6 HOST in the public URL', () => {
    assert.equal(loadConfig({ env: { DATA_DIR: tempDir(), HOST: '::1', PORT: '8000' } }).publicUrl, 'http://[::1]:8000');
    assert.equal(loadConfig({ env: { DATA_DIR: tempDir(), HOST: '::', PORT: '8000' } }).publicUrl, 'http://127.0.0.1:8000');
  });

  it('accepts every seed name for the cron secret and de-duplicates them', () => {
    const config = loadConfig({
      env: { DATA_DIR: tempDir(), CRON_SECRETS: 'a1,b2', CRON_SECRET: 'c3', CRON_TOKEN: 'a1', CRON_SECRET_KEY: 'd4' },
    });
    assert.deepEqual(config.cron.secrets, ['a1', 'b2', 'c3', 'd4']);
  });

  it('reads JOB_<NAME>_<FIELD> overrides under kebab-case job names', () => {
    const config = loadConfig({
      env: { DATA_DIR: tempDir(), JOB_LOGOUT_ALL_USERS_ENABLED: 'true', JOB_LOGOUT_ALL_USERS_SCHEDULE: '0 3 * * *', JOB_SEQUENCE_TICK_TZ: 'Europe/Berlin' },
    });
    assert.deepEqual(config.jobs['logout-all-users'], { ENABLED: 'true', SCHEDULE: '0 3 * * *' });
    assert.deepEqual(config.jobs['sequence-tick'], { TZ: 'Europe/Berlin' });
  });
});
