import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const PRODUCTION = { NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40) };
const load = (env: Record<string, string>) => loadConfig({ env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'curfew-mail-')), ...env } });

// Regression (issue 14): NODE_ENV=production without SMTP_URL silently wrote every mail to files.
describe('MAIL_TRANSPORT and production mail', () => {
  it('refuses production without SMTP_URL, naming SMTP_URL and MAIL_TRANSPORT=file', () => {
    assert.throws(
      () => load(PRODUCTION),
      (error: unknown) => error instanceof ConfigError && error.setting === 'SMTP_URL' && /MAIL_TRANSPORT=file/.test(error.message),
    );
  });

  it('starts in production with SMTP_URL, or with MAIL_TRANSPORT=file chosen on purpose', () => {
    assert.equal(load({ ...PRODUCTION, SMTP_URL: 'smtp://mail.example.com:587' }).mail.transport, 'smtp');
    assert.equal(load({ ...PRODUCTION, MAIL_TRANSPORT: 'file' }).mail.transport, 'file');
  });

  it('follows SMTP_URL when unset in development; MAIL_TRANSPORT=file wins over it', () => {
    assert.equal(load({}).mail.transport, 'file');
    assert.equal(load({ SMTP_URL: 'smtp://127.0.0.1:2525' }).mail.transport, 'smtp');
    assert.equal(load({ SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_TRANSPORT: 'file' }).mail.transport, 'file');
  });

  const refusals: Array<[string, Record<string, string>]> = [
    ['smtp without SMTP_URL', { MAIL_TRANSPORT: 'smtp' }],
    ['an unknown transport', { MAIL_TRANSPORT: 'carrier-pigeon' }],
  ];
  for (const [name, env] of refusals) {
    it(`refuses ${name}, naming MAIL_TRANSPORT`, () => {
      assert.throws(() => load(env), (error: unknown) => error instanceof ConfigError && error.setting === 'MAIL_TRANSPORT');
    });
  }

  it('reads the lifecycle settings with their defaults', () => {
    const { accounts } = load({});
    assert.equal(accounts.unactivatedTtlMs, 7 * 86_400_000);
    assert.equal(accounts.passwordResetTtlMs, 3_600_000);
    assert.equal(accounts.passwordMinStrength, 3);
    assert.equal(accounts.passwordResetUrl, 'http://127.0.0.1:8000/password/reset/');
    assert.throws(() => load({ PASSWORD_MIN_STRENGTH: '5' }), (error: unknown) => error instanceof ConfigError && error.setting === 'PASSWORD_MIN_STRENGTH');
  });
});

describe('the compose recipe and production mail', () => {
  it('docker-compose.yaml passes SMTP_URL and MAIL_TRANSPORT through, and the guide says which to set', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const compose = parse(readFileSync('docker-compose.yaml', 'utf8')) as { services: Record<string, { environment?: Record<string, string> }> };
    const environment = compose.services.curfew?.environment ?? {};
    assert.equal(environment.SMTP_URL, '${SMTP_URL:-}');
    assert.equal(environment.MAIL_TRANSPORT, '${MAIL_TRANSPORT:-}');
    const guide = readFileSync('docs/deploy/docker-compose.md', 'utf8');
    assert.match(guide, /SMTP_URL/);
    assert.match(guide, /MAIL_TRANSPORT=file/);
  });
});
