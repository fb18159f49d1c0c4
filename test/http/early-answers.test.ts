import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { EARLY_PATH_COVERS } from '../../src/http/early-answers.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { BASE_TEST_ENV, LogCapture, TEST_SECRET_KEY, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { HttpClient, type HttpResponse } from '../helpers/http.js';
import { routeHooks } from '../helpers/route-hooks.js';
import { SECRET } from '../triggers/helpers.js';

/**
 * The hooks of the routes the early answers answer (GET /api/v1/me and every
 * trigger route) that EARLY_PATH_COVERS does not list: work Fastify would do
 * for these requests and the early answers would silently skip.
 */
function uncoveredEarlyHooks(app: FastifyInstance): string[] {
  const routes = routeHooks(app).filter(
    (route) => (route.method === 'GET' && route.path === '/api/v1/me') || (route.hooks.onRequest ?? []).includes('triggerCredentialCheck'),
  );
  assert.ok(routes.some((route) => route.path === '/api/v1/me'), 'found /me in the route table');
  assert.ok(routes.filter((route) => route.path !== '/api/v1/me').length >= 4, 'found the trigger routes');
  const uncovered: string[] = [];
  for (const route of routes) {
    for (const [hook, names] of Object.entries(route.hooks)) {
      for (const name of names) {
        if (EARLY_PATH_COVERS[hook]?.[name] === undefined) uncovered.push(`${route.method} ${route.path}: ${hook} ${name}`);
      }
    }
  }
  return uncovered;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
};

function assertSecurityHeaders(response: HttpResponse, label: string, hsts: boolean): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(response.headers.get(name), value, `${label}: ${name}`);
  assert.equal(response.headers.get('strict-transport-security'), hsts ? 'max-age=31536000' : null, `${label}: HSTS ${hsts ? 'sent' : 'not sent'}`);
}

function accessLine(t: TestApp, response: HttpResponse): Record<string, unknown> | undefined {
  const id = response.headers.get('x-request-id');
  return t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'request completed' && entry.reqId === id);
}

describe('early answers: the contract', () => {
  let t: TestApp;
  let secure: TestApp;
  let alice: HttpClient;
  before(async () => {
    t = await startTestApp({ env: { CRON_SECRETS: SECRET } });
    secure = await startTestApp({ env: { CRON_SECRETS: SECRET, COOKIE_SECURE: 'true' } });
    await createUser(t, { email: 'alice@example.com', password: 'correct horse battery' });
    alice = await loggedInClient(t, 'alice@example.com', 'correct horse battery');
  });
  after(async () => {
    await t.stop();
    await secure.stop();
  });

  it('every hook of an early-answered route is one the early answers stand in for (EARLY_PATH_COVERS)', () => {
    assert.deepEqual(uncoveredEarlyHooks(t.app.http), []);
  });

  it('a hook registered globally tomorrow (CORS, metrics) makes that check fail, naming it', async () => {
    const database = await createTestDatabase();
    const config = loadConfig({ env: { ...BASE_TEST_ENV, ...database.env, CRON_SECRETS: SECRET }, secretKey: TEST_SECRET_KEY });
    const app = await createApp(config, { logDestination: new LogCapture() });
    try {
      app.http.addHook('onRequest', function corsProbe(_request, _reply, done) {
        done();
      });
      await app.start({ background: false });
      const uncovered = uncoveredEarlyHooks(app.http);
      assert.ok(uncovered.includes('GET /api/v1/me: onRequest corsProbe'), uncovered.join('\n'));
      assert.ok(uncovered.includes('POST /cron/run: onRequest corsProbe'), uncovered.join('\n'));
    } finally {
      await app.stop();
      await database.drop();
    }
  });

  it('sends the security headers on every answer: early ones, Fastify ones, errors', async () => {
    await alice.get('/api/v1/me/'); // first sight: the route verifies and caches the token
    const answers: Array<[string, HttpResponse, boolean]> = [
      ['early /me', await alice.get('/api/v1/me/'), true],
      ['routed /me', await alice.get('/api/v1/me/?x=1'), false],
      ['early trigger refusal', await alice.request('POST', '/cron/run', { cookies: false, headers: { authorization: 'Bearer nope' } }), true],
      ['routed trigger refusal', await alice.request('POST', '/cron/run?token=nope', { cookies: false }), false],
      ['health', await alice.get('/health'), false],
      ['404', await alice.get('/no/such/route'), false],
      ['401', await alice.get('/api/v1/sessions/', { cookies: false }), false],
      ['400 malformed URL', await alice.get('/api/v1/activate/%E0%A4%A'), false],
      ['415', await alice.post('/api/v1/login/', { body: 'x', headers: { 'content-type': 'text/plain' } }), false],
    ];
    for (const [label, response, early] of answers) {
      assertSecurityHeaders(response, label, false);
      assert.equal(accessLine(t, response)?.early === true, early, `${label} answered ${early ? 'early' : 'by Fastify'}`);
    }
    const http = new HttpClient(secure.url);
    for (const [label, response] of [
      ['early trigger refusal', await http.request('POST', '/cron/run', { headers: { authorization: 'Bearer nope' } })],
      ['health', await http.get('/health')],
      ['404', await http.get('/nowhere')],
    ] as const) {
      assertSecurityHeaders(response, `COOKIE_SECURE=true ${label}`, true);
    }
  });
});
