import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCredential, type TriggerRequest } from '../../src/triggers/credentials.js';
import { parseIpAllowlist } from '../../src/triggers/ip-allowlist.js';
import { signedHeaders } from '../../src/triggers/signature.js';
import { ConfigError } from '../../src/config/index.js';

const SECRET = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);
const NOW = Date.UTC(2026, 0, 1, 12);

function request(headers: Record<string, string>, extra: Partial<TriggerRequest> = {}): TriggerRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', url: '/cron/run', header: (name) => lower[name], queryToken: undefined, body: Buffer.alloc(0), ...extra };
}

const check = (req: TriggerRequest, allowQueryToken = false, now = NOW) =>
  checkCredential(req, [OTHER, SECRET], { allowQueryToken, now });

describe('checkCredential', () => {
  const cases: Array<[string, TriggerRequest, boolean, string]> = [
    ['bearer with an active secret', request({ authorization: `Bearer ${SECRET}` }), false, 'bearer'],
    ['bearer, lower-case scheme', request({ authorization: `bearer ${SECRET}` }), false, 'bearer'],
    ['X-Cron-Secret', request({ 'x-cron-secret': SECRET }), false, 'header'],
    ['query token when enabled', request({}, { queryToken: SECRET }), true, 'query'],
    ['signed request', request(signedHeaders(SECRET, 'POST', '/cron/run', NOW)), false, 'signature'],
  ];
  for (const [name, req, allowQuery, kind] of cases) {
    it(`accepts ${name}`, () => {
      const result = check(req, allowQuery);
      assert.equal(result.ok, true);
      assert.equal(result.ok && result.kind, kind);
    });
  }

  const refusals: Array<[string, TriggerRequest, boolean, string]> = [
    ['no credential', request({}), true, 'CRON_UNAUTHORIZED'],
    ['wrong bearer', request({ authorization: `Bearer ${SECRET}x` }), false, 'CRON_UNAUTHORIZED'],
    ['Bearer undefined', request({ authorization: 'Bearer undefined' }), false, 'CRON_UNAUTHORIZED'],
    ['empty bearer', request({ authorization: 'Bearer ' }), false, 'CRON_UNAUTHORIZED'],
    ['a prefix of the secret', request({ 'x-cron-secret': SECRET.slice(0, 20) }), false, 'CRON_UNAUTHORIZED'],
    ['query token while disabled', request({}, { queryToken: SECRET }), false, 'CRON_UNAUTHORIZED'],
    // The first credential present decides; a valid one further down does not rescue it.
    ['wrong bearer plus right header', request({ authorization: 'Bearer nope', 'x-cron-secret': SECRET }), false, 'CRON_UNAUTHORIZED'],
    ['signature by an unknown secret', request(signedHeaders('c'.repeat(40), 'POST', '/cron/run', NOW)), false, 'CRON_UNAUTHORIZED'],
    ['signature for another path', request(signedHeaders(SECRET, 'POST', '/cron/jobs/x/run', NOW)), false, 'CRON_UNAUTHORIZED'],
    ['signature for another method', request(signedHeaders(SECRET, 'GET', '/cron/run', NOW)), false, 'CRON_UNAUTHORIZED'],
    ['signature over another body', request(signedHeaders(SECRET, 'POST', '/cron/run', NOW, '{"a":1}')), false, 'CRON_UNAUTHORIZED'],
    ['signature without timestamp', request({ 'x-curfew-signature': 'v1=00' }), false, 'CRON_UNAUTHORIZED'],
    ['signature 301 s old', request(signedHeaders(SECRET, 'POST', '/cron/run', NOW - 301_000)), false, 'SIGNATURE_EXPIRED'],
    ['signature 301 s ahead', request(signedHeaders(SECRET, 'POST', '/cron/run', NOW + 301_000)), false, 'SIGNATURE_EXPIRED'],
  ];
  for (const [name, req, allowQuery, code] of refusals) {
    it(`refuses ${name} with ${code}`, () => {
      const result = check(req, allowQuery);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.code, code);
      assert.ok(!result.ok && !result.message.includes(SECRET), 'the message never echoes the secret');
    });
  }

  it('accepts a signature 299 s old and returns a replay key that outlives the window', () => {
    const result = check(request(signedHeaders(SECRET, 'POST', '/cron/run', NOW - 299_000)));
    assert.equal(result.ok, true);
    assert.ok(result.ok && result.replay && result.replay.expiresAt > NOW);
  });

  it('signs the body bytes: the same body verifies', () => {
    const body = Buffer.from('{"x":1}');
    const result = check(request(signedHeaders(SECRET, 'POST', '/cron/run', NOW, body), { body }));
    assert.equal(result.ok, true);
  });
});

describe('parseIpAllowlist', () => {
  const list = parseIpAllowlist(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
  const cases: Array<[string, boolean]> = [
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['11.0.0.1', false],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['not-an-ip', false],
  ];
  for (const [ip, allowed] of cases) {
    it(`${allowed ? 'allows' : 'refuses'} ${ip}`, () => assert.equal(list.allows(ip), allowed));
  }

  it('allows everyone when empty', () => assert.equal(parseIpAllowlist([]).allows('203.0.113.1'), true));

  for (const bad of ['10.0.0.0/33', 'example.com', '::1/129', '10.0.0.0/x']) {
    it(`refuses the entry ${bad} at start-up`, () => {
      assert.throws(() => parseIpAllowlist([bad]), (error: unknown) => error instanceof ConfigError && /CRON_IP_ALLOWLIST/.test(String(error)));
    });
  }
});
