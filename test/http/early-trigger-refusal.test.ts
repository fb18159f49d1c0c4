import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { signedHeaders } from '../../src/triggers/signature.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { SECRET, assertNoSecretInLogs } from '../triggers/helpers.js';

/** Log lines (parsed) whose message is `msg`. */
function logLines(t: TestApp, msg: string): Array<Record<string, unknown>> {
  return t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === msg);
}

/** The early answers mark their access line `"early":true`. */
function answeredByGate(t: TestApp, requestId: string | null): boolean {
  return logLines(t, 'request completed').some((line) => line.reqId === requestId && line.early === true);
}

/** The one access line of a request. */
function accessLine(t: TestApp, requestId: string | null): Record<string, unknown> | undefined {
  const lines = logLines(t, 'request completed').filter((line) => line.reqId === requestId);
  assert.equal(lines.length, 1, `one access line for ${requestId ?? '?'}`);
  return lines[0];
}

/** Sends raw bytes on one keep-alive connection and collects the status lines of `count` responses. */
function rawExchange(port: number, payload: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(received)}`));
    }, 5_000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
      if (statuses.length >= count) {
        clearTimeout(timer);
        socket.end();
        resolve(statuses);
      }
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

describe('early trigger refusals (wrong credentials refused before Fastify)', () => {
  let t: TestApp;
  let unconfigured: TestApp;
  before(async () => {
    t = await startTestApp({ env: { CRON_SECRETS: SECRET } });
    unconfigured = await startTestApp({});
  });
  after(async () => {
    assertNoSecretInLogs([t, unconfigured], [SECRET]);
    await t.stop();
    await unconfigured.stop();
  });

  const refusals: Array<[string, string, Record<string, string>]> = [
    ['POST', '/cron/run', {}],
    ['GET', '/cron/run/', { authorization: 'Bearer undefined' }],
    ['POST', '/cron/run', { authorization: `Bearer ${SECRET}x` }],
    ['POST', '/cron/run', { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}` }],
    ['POST', '/cron/jobs/flush-expired-tokens/run', { 'x-cron-secret': 'nope' }],
    ['POST', '/cron/jobs/no-such-job/run/', { 'x-cron-secret': 'nope' }],
    ['DELETE', '/api/cronjob/cron/check-inactive-users', { authorization: 'Bearer nope' }],
    ['POST', '/api/v1/auth/cron/flush-tokens/', { 'x-cron-secret': SECRET.slice(1) }],
  ];

  it('answers exactly what the routes own guard answers, over the socket, and counts each refusal', async () => {
    const http = new HttpClient(t.url);
    const counter = t.app.services.metrics.triggerRejections;
    const countBefore = (await counter.get()).values.find((value) => value.labels.code === 'CRON_UNAUTHORIZED')?.value ?? 0;
    for (const [index, [method, path, headers]] of refusals.entries()) {
      const gated = await http.request(method, path, { headers });
      const fastify = await t.app.http.inject({ method: method as 'GET', url: path, headers: { ...headers, 'x-request-id': `inject-${index}` } });
      await new Promise((resolve) => setImmediate(resolve));
      const injectWentThroughFastify = accessLine(t, `inject-${index}`)?.early !== true;
      const label = `${method} ${path}`;
      assert.equal(gated.status, 401, label);
      assert.equal(gated.status, fastify.statusCode, label);
      assert.deepEqual(gated.body, fastify.json(), label);
      assert.equal(gated.headers.get('content-type'), fastify.headers['content-type'], label);
      assert.match(gated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, label);
      assert.ok(answeredByGate(t, gated.headers.get('x-request-id')), `${label}: answered by the gate`);
      assert.ok(injectWentThroughFastify, `${label}: inject went through Fastify (no gate line)`);
    }
    const countAfter = (await counter.get()).values.find((value) => value.labels.code === 'CRON_UNAUTHORIZED')?.value ?? 0;
    assert.equal(countAfter - countBefore, refusals.length * 2, 'the gate and the hooks count refusals alike');
  });

  it("keeps a caller's well-formed x-request-id and logs the refusal under it", async () => {
    const response = await new HttpClient(t.url).request('POST', '/cron/run', { headers: { 'x-request-id': 'cron-probe-42' } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('x-request-id'), 'cron-probe-42');
    const line = accessLine(t, 'cron-probe-42');
    assert.equal(line?.early, true);
    assert.equal(line?.level, 30, 'info: a refusal is not a server problem');
    assert.deepEqual(line?.res, { statusCode: 401 });
    assert.equal(line?.code, 'CRON_UNAUTHORIZED');
  });

  it('leaves to Fastify what it cannot decide from the head alone, and every accepted request', async () => {
    const http = new HttpClient(t.url);
    const deferred: Array<[string, string, Record<string, string>, number]> = [
      // A query string (a `?token=` may be the credential): the route's hook refuses it.
      ['POST', '/cron/run?token=nope', {}, 401],
      // A percent-escape: Fastify decodes the path first.
      ['POST', '/cron/jobs/no%2Dsuch/run', { 'x-cron-secret': 'nope' }, 401],
      // Not a trigger method or path.
      ['HEAD', '/cron/run', {}, 404],
      ['PUT', '/cron/run', {}, 404],
      ['POST', '/cron/jobs/a/b/run', {}, 404],
      ['GET', '/cron/status', { authorization: 'Bearer nope' }, 401],
      // A signed request: its signature covers the body, which the gate never reads.
      ['POST', '/cron/run', signedHeaders('not-the-secret-at-all-0123456789abcdef', 'POST', '/cron/run', Date.now()), 401],
      // The right secret: admitted by the route's guard (throttle, then the job).
      ['POST', '/cron/jobs/no-such-job/run', { authorization: `Bearer ${SECRET}` }, 404],
    ];
    for (const [method, path, headers, status] of deferred) {
      const response = await http.request(method, path, { headers });
      assert.equal(response.status, status, `${method} ${path}`);
      assert.ok(!answeredByGate(t, response.headers.get('x-request-id')), `${method} ${path} went to Fastify`);
    }
  });

  it('keeps the connection usable after refusing a POST whose body it never read', async () => {
    const port = Number(new URL(t.url).port);
    const body = 'x'.repeat(5_000);
    const statuses = await rawExchange(
      port,
      `POST /cron/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
    );
    assert.deepEqual(statuses, [401, 200]);
  });

  it('fails closed without a secret: 503 CRON_NOT_CONFIGURED, logged as a warning', async () => {
    const response = await new HttpClient(unconfigured.url).request('POST', '/cron/run', { headers: { authorization: 'Bearer undefined' } });
    assert.equal(response.status, 503);
    assert.deepEqual(response.body, {
      error: { code: 'CRON_NOT_CONFIGURED', message: 'Cron triggers are disabled: no cron secret is configured (set CRON_SECRETS).' },
    });
    const line = logLines(unconfigured, 'request completed').find((entry) => entry.reqId === response.headers.get('x-request-id'));
    assert.equal(line?.level, 40, 'a 5xx access line is a warning');
    assert.equal(line?.code, 'CRON_NOT_CONFIGURED');
  });
});
