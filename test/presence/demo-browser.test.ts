import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { TestClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { describeIfAvailable } from '../helpers/postgres-only.js';
import { freePort } from '../helpers/processes.js';
import { createUser } from '../auth/support.js';
import { openTab, userWithClient } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install -y chromium)`;

const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describeIfAvailable('the /demo/presence page in Chromium', missing, () => {
  let t: TestApp;
  let browser: Browser;

  before(async () => {
    // A fixed port, so the page's Origin is the configured public origin (the WebSocket Origin check).
    t = await startTestApp({ background: true, env: { PORT: String(await freePort()), PRESENCE_TICK_MS: '50', PRESENCE_OFFLINE_GRACE: '0', PRESENCE_VISIBILITY: 'signed-in' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('logs in, shows the other user green, and gray once they disconnect', async () => {
    await createUser(t, { email: 'viewer@example.test', password: 'correct horse battery' });
    const other = await userWithClient(t, 'other');
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      const origin = new URL(request.url()).host;
      if (origin !== new URL(t.url).host) external.push(request.url());
    });
    await page.goto(`${t.url}/demo/presence`);
    await page.fill('input[name=email]', 'viewer@example.test');
    await page.fill('input[name=password]', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForSelector('#status:text("Connected.")');

    const tab = await openTab(t.url, other.http);
    const dot = page.locator(`li[data-user-id="${other.id}"]`);
    await dot.and(page.locator('[data-online="true"]')).waitFor({ timeout: 5000 });
    assert.equal(await dot.locator('.dot').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor), 'rgb(46, 125, 50)');

    await tab.close();
    await dot.and(page.locator('[data-online="false"]')).waitFor({ timeout: 5000 });
    assert.equal(await dot.locator('.dot').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor), 'rgb(158, 158, 158)');
    if (process.env.PRESENCE_DEMO_SCREENSHOT) await page.screenshot({ path: process.env.PRESENCE_DEMO_SCREENSHOT });
    assert.deepEqual(external, [], 'no external assets');
    await page.close();
  });
});

describeIfAvailable('the /demo/presence page after its access token expired', missing, () => {
  const clock = new TestClock(Date.now());
  let t: TestApp;
  let browser: Browser;

  before(async () => {
    t = await startTestApp({ clock, background: true, env: { PORT: String(await freePort()), PRESENCE_TICK_MS: '50', PRESENCE_OFFLINE_GRACE: '0' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('refreshes the token and reconnects when the socket drops (bug: retried forever with the expired token)', async () => {
    await createUser(t, { email: 'expiry@example.test', password: 'correct horse battery' });
    const page = await browser.newPage();
    await page.goto(`${t.url}/demo/presence`);
    await page.fill('input[name=email]', 'expiry@example.test');
    await page.fill('input[name=password]', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-connections="1"]', { timeout: 10_000 });

    // Past the access token's lifetime (ACCESS_TOKEN_TTL, 300 s) on the server's clock.
    clock.advance(t.app.config.auth.accessTtlMs + 1000);
    const status = () => page.evaluate(async () => (await fetch('/api/v1/me/', { credentials: 'same-origin' })).status);
    assert.equal(await status(), 401, 'the access cookie is expired for the server');

    // A dropped connection (network blip, server restart): the page must renew the token to get back in.
    await page.evaluate('socket.close()');
    await page.waitForSelector('body[data-connections="2"]', { timeout: 10_000 });
    assert.equal(await page.locator('#status').innerText(), 'Connected.');
    assert.equal(await status(), 200, 'the page holds a fresh access token');
    await page.close();
  });

  it('says "log in again" when the session itself is gone', async () => {
    await createUser(t, { email: 'gone@example.test', password: 'correct horse battery' });
    const page = await browser.newPage();
    await page.goto(`${t.url}/demo/presence`);
    await page.fill('input[name=email]', 'gone@example.test');
    await page.fill('input[name=password]', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-connections="1"]', { timeout: 10_000 });
    // The refresh token dies with the cookie jar (as when it expired): the page cannot renew.
    await page.context().clearCookies();
    await page.evaluate('socket.close()');
    await page.waitForSelector('#status:text("Session expired. Log in again.")', { timeout: 10_000 });
    await page.close();
  });
});
