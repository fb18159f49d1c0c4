import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TestClock } from '../../src/clock.js';
import { signedHeaders } from '../../src/triggers/signature.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { HttpClient } from '../helpers/http.js';
import { SECRET, errorCode, rowCounts, type ErrorBody } from './helpers.js';

/**
 * Issue 13 §3: signed triggers are bound to a nonce (single use, remembered
 * in the database, so across instances) and, on per-job routes, to the slot
 * they mean to fire (X-Curfew-Slot). Two instances share one database.
 */
describe('slot-bound, replay-proof signed triggers', () => {
  // 12:00:30 UTC: check-inactive-users (every minute) would run the 12:00 slot.
  const clock = new TestClock(Date.UTC(2026, 2, 10, 12, 0, 30));
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const env = { CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000' };
  const JOB = 'check-inactive-users';
  const RUN = `/cron/jobs/${JOB}/run`;

  before(async () => {
    database = await createTestDatabase();
    a = await startTestApp({ database, clock, env });
    b = await startTestApp({ database, clock, env });
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await database.drop();
  });

  const post = (t: TestApp, path: string, headers: Record<string, string>) => new HttpClient(t.url).post<ErrorBody>(path, { headers });
  const runsOf = async (job: string) =>
    (await a.app.services.storage.db.selectFrom('cron_runs').select('id').where('job', '=', job).execute()).length;
  const rejections = async (t: TestApp, code: string) => {
    const text = (await t.app.services.metrics.render()).body;
    return Number(new RegExp(`curfew_trigger_rejections_total\\{code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it('GET /cron/jobs/<job>/slot names the slot the job would run now; unknown job 404; needs a credential', async () => {
    const slot = await new HttpClient(a.url).get<{ job: string; slot: string }>(`/cron/jobs/${JOB}/slot`, {
      headers: signedHeaders(SECRET, 'GET', `/cron/jobs/${JOB}/slot`, clock.now()),
    });
    assert.equal(slot.status, 200, slot.text);
    assert.deepEqual(slot.body, { job: JOB, slot: '2026-03-10T12:00:00.000Z' });
    const daily = await new HttpClient(a.url).get<{ slot: string }>('/cron/jobs/flush-expired-tokens/slot', { headers: { authorization: `Bearer ${SECRET}` } });
    assert.equal(daily.body.slot, '2026-03-10T00:00:00.000Z');
    const unknown = await new HttpClient(a.url).get<ErrorBody>('/cron/jobs/no-such-job/slot', { headers: { authorization: `Bearer ${SECRET}` } });
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown), 'JOB_NOT_FOUND');
    assert.equal((await new HttpClient(a.url).get<ErrorBody>(`/cron/jobs/${JOB}/slot`)).status, 401);
  });

  it('two signed requests in the same second are both accepted (distinct nonces)', async () => {
    const before = await runsOf(JOB);
    const first = await post(a, RUN, signedHeaders(SECRET, 'POST', RUN, clock.now()));
    const second = await post(b, RUN, signedHeaders(SECRET, 'POST', RUN, clock.now()));
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.equal((await runsOf(JOB)) - before, 2);
  });

  it('a replayed nonce is refused on every instance: 401 SIGNATURE_REPLAYED, nothing run, nothing written', async () => {
    const headers = signedHeaders(SECRET, 'POST', RUN, clock.now(), '', { slot: '2026-03-10T12:00:00.000Z' });
    assert.equal((await post(a, RUN, headers)).status, 200);
    const counts = await rowCounts(a);
    const metric = await rejections(b, 'SIGNATURE_REPLAYED');
    for (const t of [a, b]) {
      const replay = await post(t, RUN, headers);
      assert.equal(replay.status, 401);
      assert.equal(errorCode(replay), 'SIGNATURE_REPLAYED');
    }
    assert.deepEqual(await rowCounts(a), counts, 'no row written by the replays');
    assert.equal(await rejections(b, 'SIGNATURE_REPLAYED'), metric + 1, 'the refusal metric counts');
  });

  it('a captured signature held back until the next slot is refused: 401 SLOT_MISMATCH, nothing run, nothing written', async () => {
    const captured = signedHeaders(SECRET, 'POST', RUN, clock.now(), '', { slot: '2026-03-10T12:00:00.000Z' });
    clock.advance(60_000); // 12:01:30, still inside the 5-minute signature window
    const counts = await rowCounts(a);
    const metric = await rejections(a, 'SLOT_MISMATCH');
    const late = await post(a, RUN, captured);
    assert.equal(late.status, 401, late.text);
    assert.equal(errorCode(late), 'SLOT_MISMATCH');
    assert.deepEqual(await rowCounts(a), counts, 'no row written (not even the nonce)');
    assert.equal(await rejections(a, 'SLOT_MISMATCH'), metric + 1);
    // The same request signed for the slot the server would run now goes through.
    const current = await post(a, RUN, signedHeaders(SECRET, 'POST', RUN, clock.now(), '', { slot: '2026-03-10T12:01:00.000Z' }));
    assert.equal(current.status, 200, current.text);
  });

  it('the slot is covered by the signature: changing or stripping it breaks the signature', async () => {
    const headers = signedHeaders(SECRET, 'POST', RUN, clock.now(), '', { slot: '2026-03-10T12:01:00.000Z' });
    const moved = await post(a, RUN, { ...headers, 'x-curfew-slot': '2026-03-10T12:01:00Z' });
    assert.equal(moved.status, 401);
    assert.equal(errorCode(moved), 'CRON_UNAUTHORIZED');
    const { 'x-curfew-slot': _slot, ...stripped } = headers;
    const bare = await post(a, RUN, stripped);
    assert.equal(errorCode(bare), 'CRON_UNAUTHORIZED');
  });

  it('slot checks apply to the seed aliases and to Bearer callers that send the header', async () => {
    const alias = '/api/v1/auth/cron/flush-tokens/';
    const wrong = await post(a, alias, signedHeaders(SECRET, 'POST', alias, clock.now(), '', { slot: '2026-03-09T00:00:00.000Z' }));
    assert.equal(errorCode(wrong), 'SLOT_MISMATCH');
    const right = await post(a, alias, signedHeaders(SECRET, 'POST', alias, clock.now(), '', { slot: '2026-03-10T00:00:00.000Z' }));
    assert.equal(right.status, 200, right.text);
    const bearer = await post(a, RUN, { authorization: `Bearer ${SECRET}`, 'x-curfew-slot': '2026-03-10T11:00:00Z' });
    assert.equal(errorCode(bearer), 'SLOT_MISMATCH');
    // Plain Bearer and X-Cron-Secret without the header keep working as the seeds use them.
    assert.equal((await post(a, RUN, { authorization: `Bearer ${SECRET}` })).status, 200);
    assert.equal((await post(a, alias, { 'x-cron-secret': SECRET })).status, 200);
  });

  it('a slot header that does not parse: 400 naming X-Curfew-Slot, nothing run', async () => {
    const before = await runsOf(JOB);
    for (const bad of ['yesterday', '2026-02-30T00:00:00Z', '2026-03-10T12:01:00+01:00', '1773144060000', '2026-03-10T24:00:00Z']) {
      const response = await post(a, RUN, signedHeaders(SECRET, 'POST', RUN, clock.now(), '', { slot: bad }));
      assert.equal(response.status, 400, `${bad}: ${response.text}`);
      assert.match(response.body.error?.message ?? '', /X-Curfew-Slot/);
    }
    assert.equal(await runsOf(JOB), before);
  });

  it('v1 signatures (no nonce) and a missing or malformed nonce are refused with 401', async () => {
    const timestamp = String(Math.floor(clock.now() / 1000));
    const v1 = `v1=${createHmac('sha256', SECRET).update(`POST\n${RUN}\n${timestamp}\n${createHmac('sha256', '').digest('hex')}`).digest('hex')}`;
    const old = await post(a, RUN, { 'x-curfew-timestamp': timestamp, 'x-curfew-signature': v1 });
    assert.equal(errorCode(old), 'CRON_UNAUTHORIZED');
    const headers = signedHeaders(SECRET, 'POST', RUN, clock.now());
    const { 'x-curfew-nonce': _nonce, ...noNonce } = headers;
    assert.equal(errorCode(await post(a, RUN, noNonce)), 'CRON_UNAUTHORIZED');
    assert.equal(errorCode(await post(a, RUN, { ...headers, 'x-curfew-nonce': 'short' })), 'CRON_UNAUTHORIZED');
  });
});
