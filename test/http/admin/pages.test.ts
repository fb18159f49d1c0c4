import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createUser, loggedInClient } from '../../auth/support.js';
import { TEST_SECRET_KEY, type TestApp } from '../../helpers/app.js';
import { testEngine } from '../../helpers/database.js';
import { HttpClient } from '../../helpers/http.js';
import { ADMIN, CRON_SECRET, MEMBER, SMTP_PASSWORD, startConsoleApp } from './support.js';

const PAGES = ['/admin/', '/admin/jobs/', '/admin/runs/', '/admin/runs/1/', '/admin/users/', '/admin/users/1/', '/admin/sequences/', '/admin/no/such/page/'];

describe(`the console's pages over HTTP on ${testEngine()}`, () => {
  let t: TestApp;
  let admin: HttpClient;
  let member: HttpClient;

  before(async () => {
    t = await startConsoleApp();
    await createUser(t, { ...ADMIN, role: 'admin' });
    await createUser(t, MEMBER);
    admin = await loggedInClient(t, ADMIN.email, ADMIN.password);
    member = await loggedInClient(t, MEMBER.email, MEMBER.password);
  });
  after(async () => {
    await t?.stop();
  });

  it('sends every page with a strict Content-Security-Policy, X-Frame-Options DENY, no cache and no inline script or style', async () => {
    for (const client of [new HttpClient(t.url), member, admin]) {
      for (const path of PAGES) {
        const response = await client.get(path);
        assert.match(response.headers.get('content-type') ?? '', /^text\/html/, path);
        const csp = response.headers.get('content-security-policy') ?? '';
        assert.match(csp, /default-src 'self'/, path);
        assert.match(csp, /script-src 'self';/, path);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
        assert.match(csp, /frame-ancestors 'none'/, path);
        assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
        assert.equal(response.headers.get('cache-control'), 'no-store', path);
        assert.doesNotMatch(response.text, /<script(?![^>]*\ssrc=)[^>]*>/, `${path}: no inline script`);
        assert.doesNotMatch(response.text, /<style|\sstyle=/, `${path}: no inline style`);
        assert.doesNotMatch(response.text, /\son[a-z]+=/, `${path}: no inline handler`);
      }
    }
  });

  it('shows a signed-out visitor the sign-in form (401) and a non-admin the "not an administrator" page (403), on every page', async () => {
    for (const path of PAGES) {
      const anonymous = await new HttpClient(t.url).get(path);
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.text, /<label for="email">Email<\/label>/);
      assert.match(anonymous.text, /<label for="password">Password<\/label>/);
      const plain = await member.get(path);
      assert.equal(plain.status, 403, path);
      assert.match(plain.text, /not an administrator/);
      assert.doesNotMatch(plain.text, /root@example\.test/, `${path}: no other user's data`);
    }
    const expired = await new HttpClient(t.url).get('/admin/', { headers: { cookie: 'access_token=not.a.token' } });
    assert.equal(expired.status, 401, 'a dead access cookie is signed out, not an error');
  });

  it('renders the admin pages, 404 for unknown ones, and 400 with a notice for junk filters', async () => {
    for (const path of PAGES.slice(0, -1)) assert.equal((await admin.get(path)).status, 200, path);
    assert.equal((await admin.get('/admin/no/such/page/')).status, 404);
    assert.equal((await admin.get('/admin/runs/0/')).status, 404);
    assert.equal((await admin.get('/admin/users/abc/')).status, 404);
    const junk = await admin.get('/admin/runs/?status=%3Cb%3Ebold%3C%2Fb%3E&trigger=x&from=never');
    assert.equal(junk.status, 400);
    assert.match(junk.text, /status: &#34;&lt;b&gt;bold&lt;\/b&gt;&#34; is not a run status/, 'the refused value is escaped');
    assert.doesNotMatch(junk.text, /<b>bold<\/b>/);
    assert.match(junk.text, /trigger: &#34;x&#34; is not a trigger/);
    assert.match(junk.text, /from: &#34;never&#34; is not a date and time/);
    const fine = await admin.get('/admin/runs/?job=console-echo&status=ok&trigger=http&from=2026-01-01T00:00&to=2026-12-31T23:59');
    assert.equal(fine.status, 200);
    assert.match(fine.text, /data-from="2026-01-01T00:00:00.000Z"/);
    assert.match(fine.text, /<option selected>console-echo<\/option>/);
  });

  it('answers generated filter values with 200 or 400, never a 5xx (seeded)', async () => {
    const value = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('ok', 'failed', 'http', 'console-echo', '2026-01-01T00:00', '2026-01-01T00:00:00Z', ''));
    const query = fc.dictionary(fc.constantFrom('job', 'status', 'trigger', 'from', 'to', 'cursor', 'limit', 'q', 'x'), value, { maxKeys: 5 });
    const samples = fc.sample(query, { seed: 20261130, numRuns: 120 });
    for (const sample of samples) {
      const search = new URLSearchParams(sample).toString();
      for (const path of ['/admin/runs/', '/admin/users/']) {
        const response = await admin.get(`${path}?${search}`);
        assert.ok(response.status === 200 || response.status === 400, `${path}?${search}: ${response.status}`);
      }
    }
  });

  it('escapes what it echoes from the query and never shows a configured secret', async () => {
    const search = await admin.get('/admin/users/?q=%22%3E%3Cimg%20src%3Dx%3E');
    assert.equal(search.status, 200);
    assert.doesNotMatch(search.text, /<img src=x>/);
    assert.match(search.text, /value="&#34;&gt;&lt;img src=x&gt;"/);
    const tokens = [admin.cookie('access_token'), admin.cookie('refresh_token')].filter((value): value is string => value !== undefined);
    for (const path of PAGES) {
      const html = (await admin.get(path)).text;
      for (const secret of [CRON_SECRET, SMTP_PASSWORD, TEST_SECRET_KEY, ...tokens]) assert.ok(!html.includes(secret), `${path} shows a secret`);
    }
  });

  it("serves its scripts and uPlot from the project's own node_modules", async () => {
    const anonymous = new HttpClient(t.url);
    const uplot = await anonymous.get('/admin/assets/uplot.js');
    assert.equal(uplot.status, 200);
    assert.match(uplot.headers.get('content-type') ?? '', /^text\/javascript/);
    const require = createRequire(import.meta.url);
    assert.equal(uplot.text, readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
    assert.match((await anonymous.get('/admin/assets/uplot.css')).headers.get('content-type') ?? '', /^text\/css/);
    assert.equal((await anonymous.get('/admin/assets/console.js')).status, 200);
    assert.equal((await anonymous.get('/admin/assets/..%2F..%2Fapp.ts')).status, 404);
    assert.equal((await anonymous.get('/admin/assets/nope.js')).status, 404);
  });
});
