import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBasic } from '../../src/clients/service-clients.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { readFileSync } from 'node:fs';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('HTTP Basic client credentials (RFC 7617, RFC 6749 §2.3.1)', () => {
  const cases: Array<[string | undefined, { name: string; secret: string } | undefined]> = [
    [`Basic ${b64('billing:s3cret')}`, { name: 'billing', secret: 's3cret' }],
    [`basic ${b64('billing:a:b')}`, { name: 'billing', secret: 'a:b' }],
    [`Basic ${b64('bil%6Cing:a%2Bb+c')}`, { name: 'billing', secret: 'a+b c' }],
    [`Basic ${b64(':secret')}`, undefined],
    [`Basic ${b64('nocolon')}`, undefined],
    [`Basic ${b64('x:%E0%A4%A')}`, undefined],
    ['Bearer abc', undefined],
    ['Basic !!!', undefined],
    [undefined, undefined],
    [`Basic ${'A'.repeat(2000)}`, undefined],
  ];
  for (const [header, expected] of cases) {
    it(`${String(header).slice(0, 40)} -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseBasic(header), expected);
    });
  }
});

describe('bus configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({ env: { NODE_ENV: 'test', ...env }, secretKey: 'x'.repeat(40) });

  it('is off by default; BUS_URL accepts nats:// and tls:// lists', () => {
    assert.equal(load({}).bus.url, undefined);
    assert.equal(load({ BUS_URL: 'nats://a:4222, tls://b:4222' }).bus.url, 'nats://a:4222, tls://b:4222');
    assert.equal(load({}).bus.subjectPrefix, 'curfew');
  });

  it('refuses other schemes and bad prefixes, naming the variable', () => {
    assert.throws(() => load({ BUS_URL: 'kafka://broker:9092' }), (error: unknown) => error instanceof ConfigError && error.setting === 'BUS_URL');
    assert.throws(() => load({ BUS_URL: 'not a url' }), (error: unknown) => error instanceof ConfigError && error.setting === 'BUS_URL');
    assert.throws(() => load({ BUS_SUBJECT_PREFIX: 'a.>' }), (error: unknown) => error instanceof ConfigError && error.setting === 'BUS_SUBJECT_PREFIX');
    assert.throws(() => load({ BUS_OUTBOX_POLL_MS: '1' }), (error: unknown) => error instanceof ConfigError && error.setting === 'BUS_OUTBOX_POLL_MS');
  });

  it('every variable in src/config/bus.ts is in the README table', () => {
    const source = readFileSync(new URL('../../src/config/bus.ts', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const names = [...source.matchAll(/'(BUS_[A-Z_]+)'/g)].map((m) => m[1] as string);
    assert.ok(names.length >= 3);
    assert.deepEqual(names.filter((name) => !readme.includes(`\`${name}\``)), []);
  });
});
