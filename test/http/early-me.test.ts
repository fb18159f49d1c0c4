import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { TestClock } from '../../src/clock.js';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import type { HttpClient, HttpResponse } from '../helpers/http.js';

/** The request's one access line (both paths write one; early answers say `"early":true`). */
function accessLine(t: TestApp, response: HttpResponse): Record<string, unknown> | undefined {
  const id = response.headers.get('x-request-id');
  const lines = t.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'request completed' && entry.reqId === id);
  assert.equal(lines.length, 1, `one access line for ${id ?? '?'}`);
  return lines[0];
}

/** Whether Fastify (not the early answers) answered: its access line has no `early` mark. */
function handledByFastify(t: TestApp, response: HttpResponse): boolean {
  return accessLine(t, response)?.early !== true;
}

describe('GET /api/v1/me/ answered early (from memory, before Fastify)', () => {
  const clock = new TestClock(Date.UTC(2026, 10, 30, 9, 0, 0));
  let t: TestApp;
  let alice: HttpClient;
  before(async () => {
    t = await startTestApp({ clock });
    await createUser(t, { email: 'alice@example.com', password: 'correct horse battery' });
    alice = await loggedInClient(t, 'alice@example.com', 'correct horse battery');
  });
  after(() => t.stop());

  it('answers a token it has verified before exactly as the route does, with the same activity', async () => {
    // The login's own token was issued here but never verified: the route verifies it and caches it.
    const first = await alice.get('/api/v1/me/');
    assert.equal(first.status, 200);
    assert.ok(handledByFastify(t, first), 'first sight: the route verified the signature');
    for (const path of ['/api/v1/me/', '/api/v1/me']) {
      const fast = await alice.get(path);
      assert.equal(fast.status, 200, path);
      assert.ok(!handledByFastify(t, fast), `${path}: answered by the fast path`);
      assert.deepEqual(fast.body, first.body);
      assert.equal(fast.text, first.text, 'byte for byte the route serialiser');
      assert.equal(fast.headers.get('content-type'), first.headers.get('content-type'));
      assert.match(fast.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const line = accessLine(t, fast);
      assert.deepEqual(line?.res, { statusCode: 200 });
      const routedLine = accessLine(t, first);
      assert.deepEqual(Object.keys(line ?? {}).filter((key) => key !== 'early'), Object.keys(routedLine ?? {}), 'the same line shape on both paths');
    }
    const routed = await t.app.http.inject({ method: 'GET', url: '/api/v1/me/', headers: { cookie: `access_token=${alice.cookie('access_token') ?? ''}` } });
    assert.equal(routed.body, first.text, 'and the same as the route answers in-process');
  });

  it('moves the session activity when a write is due, and waits for it', async () => {
    const sessionId = await onlySessionId(t);
    const before = await lastSeen(t, sessionId);
    clock.advance(61_000);
    const response = await alice.get('/api/v1/me/');
    assert.equal(response.status, 200);
    assert.ok(!handledByFastify(t, response));
    assert.equal(await lastSeen(t, sessionId), before + 61_000, 'written before the answer');
  });

  it('takes Authorization: Bearer like the route', async () => {
    const token = alice.cookie('access_token') ?? '';
    const response = await alice.request('GET', '/api/v1/me/', { cookies: false, headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    assert.ok(!handledByFastify(t, response));
  });

  it('leaves HEAD, query strings and missing tokens to the route', async () => {
    const head = await alice.request('HEAD', '/api/v1/me/');
    assert.equal(head.status, 200);
    assert.ok(handledByFastify(t, head));
    const query = await alice.get('/api/v1/me/?x=1');
    assert.equal(query.status, 200);
    assert.ok(handledByFastify(t, query));
    const anonymous = await alice.request('GET', '/api/v1/me/', { cookies: false });
    assert.equal(anonymous.status, 401);
    assert.ok(handledByFastify(t, anonymous));
  });

  it('survives a throw in the early answer: logged, and Fastify answers', async () => {
    const { service } = t.app.services.auth;
    const original = service.verifyCachedAccessToken.bind(service);
    service.verifyCachedAccessToken = () => {
      throw new Error('boom');
    };
    try {
      const response = await alice.get('/api/v1/me/');
      assert.equal(response.status, 500, 'the route met the same throw and answered the envelope');
      assert.ok(handledByFastify(t, response));
      assert.ok(t.logs.lines.some((line) => line.includes('early answer failed') && line.includes(response.headers.get('x-request-id') ?? '?')));
    } finally {
      service.verifyCachedAccessToken = original;
    }
    assert.equal((await alice.get('/api/v1/me/')).status, 200, 'and the server is still up');
  });

  it('honours the revocation view: a logged-out token goes to the route, which refuses it', async () => {
    const token = alice.cookie('access_token') ?? '';
    const logout = await alice.post('/api/v1/logout/', { headers: csrfHeaders(alice) });
    assert.ok(logout.status < 300, `logout answered ${logout.status} ${logout.text}`);
    // As on the route: the instance's revocation view learns it on its next refresh (here, now).
    await t.app.services.auth.view.refreshNow();
    const response = await alice.request('GET', '/api/v1/me/', { cookies: false, headers: { cookie: `access_token=${token}` } });
    assert.equal(response.status, 401);
    assert.ok(handledByFastify(t, response), 'the revocation view turned the fast path away');
  });
});

async function onlySessionId(t: TestApp): Promise<string> {
  const rows = await sql<{ id: string }>`select id from sessions`.execute(t.app.services.storage.db);
  assert.equal(rows.rows.length, 1);
  return rows.rows[0]?.id ?? '';
}

async function lastSeen(t: TestApp, sessionId: string): Promise<number> {
  const rows = await sql<{ last_seen_at: number | string }>`select last_seen_at from sessions where id = ${sessionId}`.execute(t.app.services.storage.db);
  return Number(rows.rows[0]?.last_seen_at);
}
