import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TestClock } from '../../../src/clock.js';
import { createUser } from '../../auth/support.js';
import type { TestApp } from '../../helpers/app.js';
import { describeIfAvailable } from '../../helpers/postgres-only.js';
import { ADMIN, MEMBER, assertNoSecrets, chromiumMissing, consoleContext, launchChromium, pageFetch, screenshots, signIn, startConsoleApp } from './support.js';

/** Every console page, and admin API reads the pages make. */
const PAGES = ['/admin/', '/admin/jobs/', '/admin/runs/', '/admin/runs/1/', '/admin/users/', '/admin/users/1/', '/admin/sequences/'];
const READS = ['/api/v1/admin/users/?q=', '/api/v1/admin/users/1/sessions/', '/api/v1/admin/auth-health/', '/api/v1/admin/sequences/', '/api/v1/admin/sends/?state=unknown', '/api/v1/admin/overview/', '/api/v1/admin/runs/', '/api/v1/admin/presence/'];

describeIfAvailable('the console to a signed-out visitor and to a non-admin, in Chromium', chromiumMissing, () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let external: string[];
  let cspViolations: string[];

  // Moved past the access token's lifetime in the last test.
  const clock = new TestClock(Date.now());

  before(async () => {
    t = await startConsoleApp({ clock });
    await createUser(t, { ...ADMIN, role: 'admin' });
    await createUser(t, MEMBER);
    browser = await launchChromium();
    ({ context, external, cspViolations } = await consoleContext(browser, t));
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows a signed-out visitor the sign-in form on every page, and no data', async () => {
    for (const path of PAGES) {
      const response = await page.goto(`${t.url}${path}`);
      assert.equal(response?.status(), 401, path);
      await page.getByLabel('Email').waitFor();
      await page.getByLabel('Password').waitFor();
      const html = await page.content();
      assert.ok(!html.includes(ADMIN.email) && !html.includes(MEMBER.email), `${path} shows no user`);
      assert.equal(await page.locator('table').count(), 0, `${path} has no data tables`);
    }
    await screenshots(page, 'signin');
    for (const path of READS) assert.equal((await pageFetch(page, 'GET', path)).status, 401, path);
  });

  it('says why when the password is wrong', async () => {
    await page.goto(`${t.url}/admin/`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error').waitFor();
    assert.match(await page.locator('#signin-error').innerText(), /\S/);
    assert.equal(await page.locator('[data-action="sign-out"]').count(), 0);
  });

  it('shows a non-admin a clear "not an administrator" page and no data', async () => {
    await signIn(page, t, MEMBER);
    await screenshots(page, 'not-admin');
    assert.match(await page.locator('main').innerText(), /not an administrator/);
    assert.match(await page.locator('main').innerText(), /member@example\.test/);
    for (const path of PAGES) {
      const response = await page.goto(`${t.url}${path}`);
      assert.equal(response?.status(), 403, path);
      assert.equal(await page.locator('table').count(), 0, `${path} has no data tables`);
      assert.ok(!(await page.content()).includes(ADMIN.email), `${path} shows no other user`);
    }
    for (const path of READS) assert.equal((await pageFetch(page, 'GET', path)).status, 403, path);
    const status = await pageFetch(page, 'GET', '/cron/status');
    assert.equal(status.status, 403, '/cron/status');
    await assertNoSecrets(page, 'not-admin');

    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.getByLabel('Email').waitFor();
    assert.equal((await pageFetch(page, 'GET', '/api/v1/me/')).status, 401, 'signed out for the API too');
  });

  it('loads nothing from another origin and breaks no Content-Security-Policy rule', async () => {
    await signIn(page, t, ADMIN);
    for (const path of PAGES) {
      await page.goto(`${t.url}${path}`);
      await page.waitForLoadState('networkidle');
    }
    assert.deepEqual(external, []);
    assert.deepEqual(cspViolations, []);
  });

  it('works from the keyboard: sign in with Enter, open a dialog with Enter, close it with Escape', async () => {
    await context.clearCookies();
    await page.goto(`${t.url}/admin/jobs/`);
    await page.getByLabel('Email').focus();
    await page.keyboard.type(ADMIN.email);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id), 'password');
    await page.keyboard.type(ADMIN.password);
    await page.keyboard.press('Enter');
    const pause = page.getByRole('button', { name: 'Pause: console-echo' });
    await pause.waitFor();
    await pause.focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Reason (optional)').waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id), 'confirm-reason', 'focus moves into the dialog');
    await page.keyboard.press('Escape');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    assert.equal(await pause.evaluate((node) => node === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement), true, 'focus returns to the button');
    assert.equal((await pageFetch(page, 'GET', '/cron/status')).status, 200);
    const jobs = ((await pageFetch(page, 'GET', '/cron/status')).body as { jobs: Array<{ job: string; paused: boolean }> }).jobs;
    assert.equal(jobs.find((job) => job.job === 'console-echo')?.paused, false, 'Escape cancelled the pause');
  });

  it('renews an expired access token by itself: the admin stays signed in and the page loads its data', async () => {
    await signIn(page, t, ADMIN);
    clock.advance(t.app.config.auth.accessTtlMs + 60_000);
    assert.equal((await pageFetch(page, 'GET', '/api/v1/me/')).status, 401, 'the access cookie is expired for the server');
    await page.goto(`${t.url}/admin/jobs/`);
    await page.locator('#jobs-table tbody tr').first().waitFor();
    assert.equal((await pageFetch(page, 'GET', '/api/v1/me/')).status, 200, 'the page renewed the session');

    // And a page already open renews it on its next API call.
    clock.advance(t.app.config.auth.accessTtlMs + 60_000);
    await page.locator('#jobs-table tr[data-job="console-echo"]').getByRole('button', { name: 'Dry run: console-echo' }).click();
    await page.locator('#notice', { hasText: /Dry run of console-echo: ok/ }).waitFor();
  });
});
