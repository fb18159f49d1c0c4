import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createUser } from '../auth/support.js';
import { openTab, userWithClient } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
if (missing) console.log(`skipping the presence demo browser test: ${missing}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

describe('the /demo/presence page in Chromium', { skip: missing }, () => {
  let t: TestApp;
  let browser: Browser;

  before(async () => {
    // A fixed port, so the page's Origin is the configured public origin (the WebSocket Origin check).
    t = await startTestApp({ background: true, env: { PORT: String(await freePort()), PRESENCE_TICK_MS: '50', PRESENCE_OFFLINE_GRACE: '0', PRESENCE_VISIBILITY: 'signed-in' } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
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
