import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { startTestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';
import { envelopeProblem, httpRequest, rawRequest } from './raw-http.js';

type ErrorBody = { error: { code: string; message: string } };
const METRICS_TOKEN = 'metrics-token-0123456789abcdef0123456789';

describe('operations routes in production (issue 16 #13: /metrics and /openapi.json were open)', () => {
  it('closes /metrics, /openapi.json and /docs without METRICS_TOKEN, and says so at start-up', async () => {
    const t = await startTestApp({ env: { NODE_ENV: 'production', MAIL_TRANSPORT: 'file' } });
    try {
      const http = new HttpClient(t.url);
      for (const path of ['/metrics', '/openapi.json', '/docs', '/docs/json']) {
        const response = await http.get<ErrorBody>(path);
        assert.equal(response.status, 403, `${path}: ${response.text}`);
        assert.equal(response.body.error.code, 'FORBIDDEN');
      }
      assert.ok(t.logs.lines.some((line) => line.includes('/metrics, /openapi.json and /docs are closed')));
    } finally {
      await t.stop();
    }
  });

  it('opens them to Authorization: Bearer <METRICS_TOKEN>', async () => {
    const t = await startTestApp({ env: { NODE_ENV: 'production', MAIL_TRANSPORT: 'file', METRICS_TOKEN } });
    try {
      const http = new HttpClient(t.url);
      assert.equal((await http.get('/openapi.json')).status, 401);
      assert.equal((await http.get('/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401);
      const bearer = { authorization: `Bearer ${METRICS_TOKEN}` };
      assert.equal((await http.get('/openapi.json', { headers: bearer })).status, 200);
      assert.equal((await http.get('/metrics', { headers: bearer })).status, 200);
      assert.ok(t.logs.lines.some((line) => line.includes('need Authorization: Bearer <METRICS_TOKEN>')));
    } finally {
      await t.stop();
    }
  });

  it('leaves them open in development', async () => {
    const t = await startTestApp();
    try {
      assert.equal((await new HttpClient(t.url).get('/openapi.json')).status, 200);
    } finally {
      await t.stop();
    }
  });
});

describe('HTTP timeouts (issue 16 #9: slow bodies and silent sockets stayed open for minutes)', () => {
  it('answers 408 REQUEST_TIMEOUT and closes half-sent headers, slow bodies and idle keep-alives', async () => {
    const t = await startTestApp({ env: { HTTP_HEADERS_TIMEOUT: '1', HTTP_REQUEST_TIMEOUT: '2', HTTP_KEEP_ALIVE_TIMEOUT: '1' } });
    const port = Number(new URL(t.url).port);
    try {
      const [headers, body, idle] = await Promise.all([
        rawRequest(port, 'GET /health HTTP/1.1\r\nHost: a\r\n', { timeoutMs: 15_000 }),
        rawRequest(port, httpRequest('POST', '/api/v1/login/', { 'Content-Type': 'application/json', 'Content-Length': '100' }, '{"email":'), { timeoutMs: 15_000 }),
        rawRequest(port, httpRequest('GET', '/health', { Connection: 'keep-alive' }), { timeoutMs: 15_000 }),
      ]);
      for (const response of [headers, body]) {
        assert.equal(response.status, 408, response.body);
        assert.equal((JSON.parse(response.body) as ErrorBody).error.code, 'REQUEST_TIMEOUT');
        assert.ok(response.closedByServer);
      }
      assert.equal(idle.status, 200);
      assert.ok(idle.closedByServer, 'the idle keep-alive connection was closed by the server');
    } finally {
      await t.stop();
    }
  });
});

describe('stop() drains for at most SHUTDOWN_GRACE (issue 16 #2)', () => {
  it('closes a stalled body and an idle connection within the grace, and answers new requests 503 meanwhile', async () => {
    const t = await startTestApp({ env: { SHUTDOWN_GRACE: '1' } });
    const port = Number(new URL(t.url).port);
    // Held open by the client: a body that never completes, and a keep-alive connection it keeps using.
    const stalled = rawRequest(port, httpRequest('POST', '/api/v1/login/', { 'Content-Type': 'application/json', 'Content-Length': '1000' }, '{"email":'), { timeoutMs: 15_000 });
    const keepAlive = connect(port, '127.0.0.1');
    await new Promise((resolve) => keepAlive.once('connect', resolve));
    keepAlive.on('error', () => undefined);
    let closedKeepAlive = false;
    keepAlive.on('close', () => {
      closedKeepAlive = true;
    });
    const stopping = t.stop();
    const during = await rawRequest(port, httpRequest('GET', '/health')).catch(() => undefined);
    await stopping;
    const answer = await stalled;
    assert.ok(answer.closedByServer, 'the stalled body was cut');
    assert.ok(closedKeepAlive || keepAlive.destroyed, 'the idle connection was closed');
    keepAlive.destroy();
    // A connection attempt during the drain is refused (not listening) or answered 503 in the envelope.
    if (during !== undefined && during.status !== 0) {
      assert.equal(during.status, 503, during.body);
      assert.equal(envelopeProblem(during.body), undefined);
    }
  });
});
