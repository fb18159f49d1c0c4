import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';

describe('HTTP foundation', () => {
  let t: TestApp;
  let http: HttpClient;
  before(async () => {
    t = await startTestApp();
    http = new HttpClient(t.url);
  });
  after(async () => t.stop());

  it('answers /health and /ready, with and without the trailing slash', async () => {
    for (const path of ['/health', '/health/', '/ready', '/ready/']) {
      const response = await http.get(path);
      assert.equal(response.status, 200, path);
    }
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const spec = await http.get<{ openapi: string; paths: Record<string, unknown> }>('/openapi.json');
    assert.equal(spec.status, 200);
    assert.match(spec.body.openapi, /^3\./);
    assert.ok(spec.body.paths['/health']);
    const docs = await http.get('/docs/');
    assert.equal(docs.status, 200);
  });

  it('answers unknown routes with the JSON error envelope', async () => {
    const response = await http.get<{ error: { code: string } }>('/no/such/route');
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'ROUTE_NOT_FOUND');
    assert.ok(response.headers.get('x-request-id'));
  });
});

describe('HTTP foundation: malformed requests', () => {
  let t: TestApp;
  let http: HttpClient;
  before(async () => {
    t = await startTestApp();
    http = new HttpClient(t.url);
  });
  after(async () => t.stop());

  it('answers a malformed percent-escape in the URL with the envelope, not a 5xx', async () => {
    const response = await http.get<{ error: { code: string } }>('/api/v1/activate/%E0%A4%A/');
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'BAD_REQUEST');
    assert.ok(response.headers.get('x-request-id'));
  });

  it('refuses text/plain bodies with 415', async () => {
    const response = await http.post<{ error: { code: string } }>('/api/v1/verify/', {
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(response.status, 415);
    assert.equal(response.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('takes forms only on the routes that accept them: elsewhere urlencoded and multipart bodies get 415', async () => {
    for (const options of [{ form: { token: 'x' } }, { multipart: { token: 'x' } }]) {
      const response = await http.post<{ error: { code: string } }>('/api/v1/verify/', options);
      assert.equal(response.status, 415, JSON.stringify(options));
      assert.equal(response.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.ok(response.headers.get('x-request-id'));
    }
  });
});
