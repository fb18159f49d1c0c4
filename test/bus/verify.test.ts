import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { startTestApp, TEST_SECRET_KEY, BASE_TEST_ENV, type TestApp } from '../helpers/app.js';
import { createUser, loggedInClient } from '../auth/support.js';
import { eventually, MACHINE_NATS, metric, natsUnavailable, spawnCurfew, testPrefix } from './support.js';

const skip = await natsUnavailable();
if (skip) console.log(`# skipped: ${skip}`);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('curfew.auth.verify over NATS, two instances', { skip: skip ?? false }, () => {
  const prefix = testPrefix();
  const subject = `${prefix}.auth.verify`;
  let a: TestApp;
  let b: Awaited<ReturnType<typeof spawnCurfew>>;
  let nc: NatsConnection;
  let token: string;
  let sessionId: string;
  let userId: number;

  const ask = async (payload: Uint8Array) => {
    const msg = await nc.request(subject, payload, { timeout: 10_000 });
    return JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>;
  };
  const askToken = (value: unknown) => ask(encoder.encode(JSON.stringify({ token: value })));

  before(async () => {
    const env = { BUS_URL: MACHINE_NATS, BUS_SUBJECT_PREFIX: prefix };
    a = await startTestApp({ env, background: true });
    const user = await createUser(a, { email: 'bus@example.com', password: 'correct horse battery' });
    userId = Number(user.id);
    const http = await loggedInClient(a, 'bus@example.com', 'correct horse battery');
    token = http.cookie('access_token') as string;
    const claims = await a.app.services.auth.service.verifyAccessToken(token);
    sessionId = claims?.sessionId as string;
    b = await spawnCurfew({ ...BASE_TEST_ENV, ...a.database.env, ...env, SECRET_KEY: TEST_SECRET_KEY, INSTANCE_ID: 'bus-b' });
    nc = await connect({ servers: MACHINE_NATS });
    await eventually(() => a.app.services.bus.state() === 'connected', 10_000, 'instance A on the bus');
    await eventually(async () => (await (await fetch(`${b.url}/ready`)).json() as { bus: string }).bus === 'connected', 20_000, 'instance B on the bus');
  });

  after(async () => {
    await nc?.close();
    await b?.stop();
    await a?.stop();
  });

  it('answers a valid token with the user, session and expiry (the issue\'s reply shape)', async () => {
    const reply = await askToken(token);
    assert.deepEqual(Object.keys(reply).sort(), ['expires_at', 'session_id', 'user', 'valid']);
    assert.equal(reply.valid, true);
    assert.deepEqual(reply.user, { id: userId, email: 'bus@example.com', role: 'user' });
    assert.equal(reply.session_id, sessionId);
    assert.match(String(reply.expires_at), /^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('each request is answered exactly once across the two instances, and both take a share', async () => {
    const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
    const count = (text: string) => metric(text, 'curfew_bus_verify_requests_total{result="valid"}');
    const before = count(await scrape(a.url)) + count(await scrape(b.url));
    const n = 200;
    const replies = await Promise.all(Array.from({ length: n }, () => askToken(token)));
    assert.ok(replies.every((reply) => reply.valid === true));
    const [textA, textB] = [await scrape(a.url), await scrape(b.url)];
    assert.equal(count(textA) + count(textB) - before, n, 'answers counted on both instances add up to the requests: none answered twice');
    assert.ok(count(textA) > 0 && count(textB) > 0, `both instances answered (A ${count(textA)}, B ${count(textB)})`);
  });

  it('malformed requests get an error reply, and the instance keeps answering', async () => {
    const cases: Array<[Uint8Array, string]> = [
      [encoder.encode('not json'), 'INVALID_JSON'],
      [new Uint8Array([0xff, 0xfe, 0x00]), 'INVALID_JSON'],
      [encoder.encode('{}'), 'VALIDATION_FAILED'],
      [encoder.encode('[]'), 'VALIDATION_FAILED'],
      [encoder.encode('{"token": 12}'), 'VALIDATION_FAILED'],
      [encoder.encode('{"token": "x", "extra": 1}'), 'VALIDATION_FAILED'],
      [encoder.encode(JSON.stringify({ token: 'a'.repeat(100_000) })), 'PAYLOAD_TOO_LARGE'],
      [encoder.encode('{"token": "not.a.jwt"}'), 'INVALID_TOKEN'],
      [new Uint8Array(0), 'INVALID_JSON'],
    ];
    for (const [payload, code] of cases) {
      const reply = await ask(payload);
      assert.equal(reply.valid, false);
      assert.equal((reply.error as { code: string }).code, code, `payload ${decoder.decode(payload).slice(0, 40)}`);
    }
    assert.equal((await askToken(token)).valid, true, 'still answering');
    assert.equal(b.child.exitCode, null, 'instance B did not crash');
  });

  it('a revoked session is answered valid:false by both instances', async () => {
    const http = await loggedInClient(a, 'bus@example.com', 'correct horse battery');
    const other = http.cookie('access_token') as string;
    assert.equal((await askToken(other)).valid, true);
    const claims = await a.app.services.auth.service.verifyAccessToken(other);
    await a.app.services.auth.sessions.revoke(claims?.sessionId as string, 'logout');
    // Within the revocation view's refresh (about a second) on every instance.
    await eventually(async () => {
      const replies = await Promise.all(Array.from({ length: 20 }, () => askToken(other)));
      return replies.every((reply) => reply.valid === false);
    }, 10_000, 'both instances refusing the revoked session');
    const reply = await askToken(other);
    assert.deepEqual(reply, { valid: false, error: { code: 'INVALID_TOKEN', message: 'The token is invalid, expired or revoked.' } });
  });

  it('never logs the token', () => {
    const logs = a.logs.text() + b.output.join('');
    assert.ok(!logs.includes(token), 'the access token appears in no log line');
    assert.ok(!logs.includes('a'.repeat(200)), 'the huge payload appears in no log line');
  });
});
