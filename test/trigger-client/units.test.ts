import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/duration.js';
import { EXIT } from '../../src/trigger-client/exit-codes.js';
import { formatLogLine } from '../../src/trigger-client/log-line.js';
import { parseTriggerArgs } from '../../src/trigger-client/options.js';
import { classifyNetworkError, classifyResponse } from '../../src/trigger-client/outcome.js';
import { buildRequest, resolveUrl } from '../../src/trigger-client/request.js';
import { readSecret } from '../../src/trigger-client/secret.js';
import { backoffDelay } from '../../src/trigger-client/trigger.js';
import { signRequest } from '../../src/triggers/signature.js';

const SECRET = 'unit-secret-0123456789abcdef0123456789abcdef';

describe('parseDuration', () => {
  const table: [string, number | undefined][] = [['500ms', 500], ['10s', 10_000], ['59s', 59_000], ['2m', 120_000], ['1h', 3_600_000], ['7', 7000], ['1.5s', 1500], ['', undefined], ['5 minutes', undefined], ['-1s', undefined], ['1d', 86_400_000], ['2M', 120_000], [' 30s ', 30_000], ['1.5', 1500], ['1 s', undefined]];
  for (const [text, ms] of table) it(`${JSON.stringify(text)} -> ${ms}`, () => assert.equal(parseDuration(text), ms));
});

describe('readSecret', () => {
  it('reads the named variable', () => assert.deepEqual(readSecret({ MY: ' s ' }, 'MY'), { found: true, secret: 's', from: 'MY' }));
  it('falls back to the first CRON_SECRETS entry only for the default name', () => {
    assert.deepEqual(readSecret({ CRON_SECRETS: ' , a,b' }), { found: true, secret: 'a', from: 'CRON_SECRETS' });
    assert.equal(readSecret({ CRON_SECRETS: 'a' }, 'OTHER').found, false);
  });
  it('explains a missing secret without any value', () => {
    const lookup = readSecret({});
    assert.equal(lookup.found, false);
    if (!lookup.found) assert.match(lookup.message, /CRON_SECRET \(or CRON_SECRETS\)/);
  });
});

describe('classifyResponse', () => {
  const table: [number, unknown, number, boolean][] = [
    [200, { ok: true, data: { cron_run_id: 3 } }, EXIT.OK, false],
    [200, 'plain text', EXIT.OK, false],
    [200, { status: 'success' }, EXIT.OK, false],
    [200, { ok: false, message: 'x' }, EXIT.JOB_FAILED, false],
    [200, { id: 4, status: 'failed' }, EXIT.JOB_FAILED, false],
    [200, { ok: true, data: { runs: [{ status: 'missed' }, { status: 'skipped' }] } }, EXIT.OK, false],
    [409, {}, EXIT.BUSY, false],
    [429, {}, EXIT.THROTTLED, false],
    [401, {}, EXIT.AUTH_REFUSED, false],
    [403, {}, EXIT.AUTH_REFUSED, false],
    [503, { error: { code: 'CRON_NOT_CONFIGURED', message: 'm' } }, EXIT.AUTH_REFUSED, false],
    [503, { error: { code: 'SERVICE_UNAVAILABLE', message: 'm' } }, EXIT.UNREACHABLE, true],
    [502, undefined, EXIT.UNREACHABLE, true],
    [500, {}, EXIT.JOB_FAILED, true],
    [500, { ok: false, message: 'Job a failed.', data: { id: 5, job: 'a', status: 'failed', error: 'x' } }, EXIT.JOB_FAILED, false],
    [500, { status: 'error', message: 'Expired tokens could not be flushed.' }, EXIT.JOB_FAILED, false],
    [404, {}, EXIT.USAGE, false],
    [418, {}, EXIT.JOB_FAILED, false],
  ];
  for (const [status, body, exit, retryable] of table) {
    it(`${status} ${JSON.stringify(body)} -> exit ${exit}${retryable ? ', retryable' : ''}`, () => {
      const outcome = classifyResponse(status, body);
      assert.equal(outcome.exitCode, exit);
      assert.equal(outcome.retryable, retryable);
    });
  }
  it('reads the run id from cron_run_id or a run summary', () => {
    assert.equal(classifyResponse(200, { ok: true, data: { cron_run_id: 12 } }).runId, 12);
    assert.equal(classifyResponse(200, { id: 9, status: 'ok' }).runId, 9);
  });
  it('network errors are exit 5 and retryable', () => {
    const outcome = classifyNetworkError(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }), false);
    assert.equal(outcome.exitCode, EXIT.UNREACHABLE);
    assert.equal(outcome.message, 'ECONNREFUSED');
  });
});

describe('buildRequest', () => {
  const target = { baseUrl: new URL('https://example.com/prefix/'), job: undefined, method: 'post', path: '/cron/run?dry_run=1', mode: 'signed' as const };
  it('signs method, path+query with the base path prefix, timestamp and empty body', () => {
    const request = buildRequest(target, SECRET, 1_700_000_000_999);
    assert.equal(request.url, 'https://example.com/prefix/cron/run?dry_run=1');
    assert.equal(request.headers['x-curfew-timestamp'], '1700000000');
    const nonce = request.headers['x-curfew-nonce'] as string;
    assert.match(nonce, /^[A-Za-z0-9_-]{22}$/, 'a fresh random nonce');
    assert.equal(request.headers['x-curfew-signature'], signRequest(SECRET, 'POST', '/prefix/cron/run?dry_run=1', '1700000000', '', { nonce }));
    assert.notEqual(buildRequest(target, SECRET, 1_700_000_000_999).headers['x-curfew-nonce'], nonce, 'two requests in the same second differ');
    const slotted = buildRequest(target, SECRET, 1_700_000_000_999, undefined, '2023-11-14T22:13:00.000Z');
    assert.equal(slotted.headers['x-curfew-slot'], '2023-11-14T22:13:00.000Z');
    assert.equal(
      slotted.headers['x-curfew-signature'],
      signRequest(SECRET, 'POST', '/prefix/cron/run?dry_run=1', '1700000000', '', { nonce: slotted.headers['x-curfew-nonce'] as string, slot: '2023-11-14T22:13:00.000Z' }),
      'the slot is signed',
    );
    assert.equal(request.headers.authorization, undefined);
  });
  it('bearer, header and query put the secret in exactly one place', () => {
    assert.equal(buildRequest({ ...target, mode: 'bearer' }, SECRET, 0).headers.authorization, `Bearer ${SECRET}`);
    assert.equal(buildRequest({ ...target, mode: 'header' }, SECRET, 0).headers['x-cron-secret'], SECRET);
    const query = buildRequest({ ...target, mode: 'query' }, SECRET, 0);
    assert.equal(new URL(query.url).searchParams.get('token'), SECRET);
    assert.ok(!JSON.stringify(query.headers).includes(SECRET));
  });
  it('resolveUrl keeps the prefix and drops a doubled slash', () => {
    assert.equal(resolveUrl(new URL('http://h:1'), '/cron/run').toString(), 'http://h:1/cron/run');
    assert.equal(resolveUrl(new URL('http://h/a/'), '/b/').toString(), 'http://h/a/b/');
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt with 50-150 % jitter, capped', () => {
    assert.deepEqual([1, 2, 3].map((n) => backoffDelay(1000, n, () => 0.5)), [1000, 2000, 4000]);
    assert.equal(backoffDelay(1000, 1, () => 0), 500);
    assert.equal(backoffDelay(1000, 1, () => 0.999), 1499);
    assert.equal(backoffDelay(1000, 20, () => 0.5), 30_000);
  });
});

describe('formatLogLine', () => {
  it('redacts the secret, token= query values and Bearer values wherever they appear', () => {
    const line = formatLogLine(
      { at: new Date(0), job: 'due', method: 'POST', path: `/cron/run?token=${SECRET}`, status: 401, runId: undefined, durationMs: 5, attempts: 1, outcome: 'refused', exitCode: 4, message: `echo ${SECRET} Bearer abc` },
      SECRET,
    );
    assert.ok(!line.includes(SECRET));
    assert.ok(!line.includes('Bearer abc'));
    assert.match(line, /^1970-01-01T00:00:00.000Z job=due method=POST path="\/cron\/run\?token=\[REDACTED\]" status=401 run_id=- duration_ms=5 attempts=1 outcome=refused exit=4 message=/);
  });
});

describe('parseTriggerArgs', () => {
  const env = { CRON_SECRET: SECRET };
  const cases: [string, Record<string, string | boolean>, RegExp][] = [
    ['no url', {}, /--url is required/],
    ['bad url', { url: 'nope' }, /not a URL/],
    ['credentials in url', { url: 'https://u:p@h' }, /credentials/],
    ['job and --due', { url: 'http://h', job: 'a', due: true }, /either/],
    ['bad mode', { url: 'http://h', mode: 'cookie' }, /--mode/],
    ['bad method', { url: 'http://h', method: 'TRACE' }, /--method/],
    ['token in path', { url: 'http://h', path: '/cron/run?token=x' }, /--mode query/],
    ['bad timeout', { url: 'http://h', timeout: 'soon' }, /--timeout/],
    ['bad retries', { url: 'http://h', retries: '99' }, /--retries/],
    ['lock without interval', { url: 'http://h', lockFile: '/tmp/x' }, /--min-interval/],
  ];
  for (const [name, raw, message] of cases) {
    it(`usage error: ${name}`, () => {
      const parsed = parseTriggerArgs(raw, env);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.message, message);
    });
  }
  it('defaults: signed POST /cron/run, 10 s timeout, 3 retries, no guard', () => {
    const parsed = parseTriggerArgs({ url: 'https://h' }, env);
    assert.ok(parsed.ok);
    if (!parsed.ok) return;
    assert.equal(parsed.options.target.path, '/cron/run');
    assert.equal(parsed.options.target.mode, 'signed');
    assert.equal(parsed.options.timeoutMs, 10_000);
    assert.equal(parsed.options.retries, 3);
    assert.equal(parsed.options.guard, undefined);
  });
  it('the default lock file differs per URL and job', () => {
    const lock = (raw: Record<string, string>) => {
      const parsed = parseTriggerArgs({ url: 'https://h', minInterval: '59s', ...raw }, env);
      return parsed.ok ? parsed.options.guard?.lockFile : undefined;
    };
    assert.notEqual(lock({}), lock({ job: 'a' }));
    assert.notEqual(lock({ job: 'a' }), lock({ job: 'a', url: 'https://other' }));
    assert.equal(lock({ job: 'a' }), lock({ job: 'a' }));
  });
});
