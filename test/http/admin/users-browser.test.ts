import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../../auth/support.js';
import type { TestApp } from '../../helpers/app.js';
import { HttpClient } from '../../helpers/http.js';
import { describeIfAvailable } from '../../helpers/postgres-only.js';
import { eventually } from '../../helpers/processes.js';
import { openTab } from '../../presence/support.js';
import { seedLedger, seedUsers } from '../../sequences/support.js';
import { ADMIN, MEMBER, assertNoSecrets, chromiumMissing, consoleContext, launchChromium, pageFetch, screenshots, signIn, startConsoleApp } from './support.js';

/** The member signed in from a device: a client with its own cookies, and its session id. */
async function device(t: TestApp, userAgent: string): Promise<{ http: HttpClient; sessionId: string }> {
  const http = new HttpClient(t.url);
  const response = await http.post<{ session_id: string }>('/api/v1/login/', { json: MEMBER, headers: { 'user-agent': userAgent } });
  assert.equal(response.status, 200, response.text);
  return { http, sessionId: response.body.session_id };
}

const me = async (client: HttpClient) => (await client.get('/api/v1/me/')).status;

describeIfAvailable('the console: users, sessions and sequences, in Chromium', chromiumMissing, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let memberId: number;

  before(async () => {
    t = await startConsoleApp();
    await createUser(t, { ...ADMIN, role: 'admin' });
    memberId = Number((await createUser(t, MEMBER)).id);
    browser = await launchChromium();
    page = await (await consoleContext(browser, t)).context.newPage();
    page.setDefaultTimeout(10_000);
    await signIn(page, t, ADMIN);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('finds a user by e-mail and shows online users and the auth tables', async () => {
    const tab = await openTab(t.url, (await device(t, 'Warmup Browser')).http);
    const calls: string[] = [];
    const record = (request: { url(): string }) => calls.push(new URL(request.url()).pathname);
    page.on('request', record);
    await page.goto(`${t.url}/admin/users/?q=member`);
    const row = page.locator(`#users-table tr[data-user-id="${memberId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /member@example\.test/);
    assert.equal(await page.locator('#users-table tbody tr').count(), 1, 'only the matching user');
    await page.locator('#health-table tbody tr').first().waitFor();
    assert.ok((await page.locator('#health-table tbody tr').count()) > 0);
    const online = page.locator(`#online-list li[data-user-id="${memberId}"]`, { hasText: MEMBER.email });
    await online.waitFor();
    assert.match(await online.innerText(), /1 connection,/);
    page.off('request', record);
    // One admin presence call gives the e-mails: no look-up per online user.
    assert.ok(calls.includes('/api/v1/admin/presence/'), calls.join(' '));
    assert.deepEqual(calls.filter((path) => /^\/api\/v1\/admin\/users\/\d+\/$/.test(path) || path === '/api/v1/presence/'), []);
    await screenshots(page, 'users');
    await assertNoSecrets(page, 'users');
    tab.socket.close();
  });

  it("revokes one of a user's sessions from the page: that device's API calls are refused", async () => {
    const laptop = await device(t, 'Laptop Firefox');
    const phone = await device(t, 'Phone Safari');
    assert.equal(await me(laptop.http), 200);
    await page.goto(`${t.url}/admin/users/?q=member`);
    await page.locator('#users-table').getByRole('link', { name: MEMBER.email }).click();
    await page.waitForURL(`**/admin/users/${memberId}/`);
    const laptopRow = page.locator(`#sessions-table tr[data-session-id="${laptop.sessionId}"]`);
    await laptopRow.waitFor();
    assert.match(await laptopRow.innerText(), /Laptop Firefox/);
    await screenshots(page, 'user');
    await assertNoSecrets(page, 'user');

    await laptopRow.getByRole('button', { name: /Revoke/ }).click();
    await page.locator('#confirm').getByRole('button', { name: 'Revoke' }).click();
    await laptopRow.waitFor({ state: 'detached' });
    await eventually(async () => (await me(laptop.http)) === 401, 'the revoked session is refused');
    assert.equal(await me(phone.http), 200, 'the other session still works');

    await page.getByRole('button', { name: 'Log out everywhere' }).click();
    await page.locator('#confirm').getByRole('button', { name: 'Log out everywhere' }).click();
    await page.locator('#notice', { hasText: 'Logged out everywhere' }).waitFor();
    await eventually(async () => (await me(phone.http)) === 401, 'every session is refused');
    // The notice shows before the list reloads (user.js notifies, then refreshes): wait for the reload.
    await eventually(async () => (await page.locator('#sessions-table tbody tr').count()) === 0, 'the sessions list empties');
  });

  it('refuses every action without a valid CSRF token (403), and takes it with one', async () => {
    const victim = await device(t, 'Tablet');
    const actions: Array<[string, string, unknown]> = [
      ['POST', `/api/v1/admin/users/${memberId}/logout/`, {}],
      ['DELETE', `/api/v1/admin/users/${memberId}/sessions/${victim.sessionId}/`, undefined],
      ['POST', '/api/v1/admin/sends/1/resolve/', { outcome: 'sent' }],
      ['POST', '/api/v1/admin/jobs/console-echo/run/', { dry_run: true }],
      ['POST', '/api/v1/admin/jobs/console-echo/pause/', {}],
      ['POST', '/api/v1/admin/jobs/console-echo/resume/', {}],
      ['POST', '/api/v1/logout/', undefined],
    ];
    for (const [method, path, body] of actions) {
      for (const csrf of [false, 'forged.token'] as const) {
        const answer = await pageFetch(page, method, path, { body, csrf });
        assert.equal(answer.status, 403, `${method} ${path} with csrf=${String(csrf)}: ${JSON.stringify(answer.body)}`);
        assert.equal((answer.body as { error: { code: string } }).error.code, 'CSRF_FAILED');
      }
    }
    assert.equal(await me(victim.http), 200, 'nothing was revoked');
    assert.equal((await pageFetch(page, 'GET', '/api/v1/me/')).status, 200, 'the admin is still signed in');
  });

  it('shows each sequence funnel and resolves an unknown send', async () => {
    const { sequences, jobs, storage } = t.app.services;
    await sequences.create({ key: 'welcome', name: 'Welcome', steps: [{ delay: '0s', subject: 'Hello', text: 'Hi {{ email }}' }, { delay: '2d', subject: 'Tips', text: 'Tips {{ email }}' }] });
    await sequences.enroll('welcome', { email: MEMBER.email });
    const run = await jobs.runJob('sequence-tick', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(run.status, 'ok', JSON.stringify(run));
    // The mail server took the message and the connection dropped before it said so: the operator's call.
    await storage.db.updateTable('sequence_sends').set({ state: 'unknown' }).execute();
    const [send] = await sequences.listSends({ state: 'unknown' });
    assert.ok(send);

    // A second sequence past the console's old 1000-send read: the funnel shows the exact counts.
    await sequences.create({ key: 'big', name: 'Big', steps: [{ delay: '0s', subject: 'One', text: 'x' }, { delay: '1d', subject: 'Two', text: 'x' }] });
    await seedLedger(t.app, 'big', await seedUsers(t.app, 1205, 'big'), [1205, 300]);

    await page.goto(`${t.url}/admin/sequences/`);
    const funnel = page.locator('article[data-sequence="welcome"]');
    await funnel.waitFor();
    assert.match(await funnel.innerText(), /Enrolled\s+1/);
    assert.match(await funnel.innerText(), /Step 1 sent: Hello\s+0 \(0 %\)/, 'the unknown send is not counted as sent');
    const big = page.locator('article[data-sequence="big"]');
    await big.waitFor();
    const bigText = await big.innerText();
    assert.match(bigText, /Enrolled\s+1205/);
    assert.match(bigText, /Step 1 sent: One\s+1205 \(100 %\)/);
    assert.match(bigText, /Step 2 sent: Two\s+300 \(25 %\)/);
    assert.doesNotMatch(bigText, /newest 1000/, 'no cap, no notice');
    const row = page.locator(`#unknown-table tr[data-send-id="${send.id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /member@example\.test/);
    await screenshots(page, 'sequences');
    await assertNoSecrets(page, 'sequences');

    await row.getByRole('button', { name: /arrived/ }).click();
    await row.waitFor({ state: 'detached' });
    // The page reloads after the verdict: the send now counts as step 1's.
    await eventually(async () => /Step 1 sent: Hello\s+1 \(100 %\)/.test(await funnel.innerText()), 'the funnel counts the resolved send');
    assert.deepEqual(await sequences.listSends({ state: 'unknown' }), []);
    assert.equal((await sequences.listSends({ state: 'sent', sequenceKey: 'welcome' })).length, 1);
  });
});
