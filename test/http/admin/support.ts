import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Config } from '../../../src/config/index.js';
import { defineJob } from '../../../src/jobs/define.js';
import type { JobDefinition } from '../../../src/jobs/types.js';
import { startTestApp, TEST_SECRET_KEY, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { freePort } from '../../helpers/processes.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Why the browser suites skip, or undefined when Chromium is here. */
export const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Configured secrets that no console page may ever show. */
export const CRON_SECRET = 'console-cron-secret-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e';
export const SMTP_PASSWORD = 'smtp-pass-Qx81LmZ4w2';
export const ADMIN = { email: 'root@example.test', password: 'correct horse battery staple' } as const;
export const MEMBER = { email: 'member@example.test', password: 'member horse battery staple' } as const;

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'admin');

/**
 * TEST-ONLY jobs for the console: `console-echo` (counts one echo, or
 * would in a dry run) and `console-fails` (always fails, with a cause),
 * both every minute.
 */
export function consoleJobs(_config: Config): JobDefinition[] {
  return [
    defineJob({
      name: 'console-echo',
      description: 'TEST ONLY: counts one echo',
      schedule: '* * * * *',
      run: async ({ dryRun }) => ({ echoed: dryRun ? 0 : 1 }),
    }),
    defineJob({
      name: 'console-fails',
      description: 'TEST ONLY: always fails',
      schedule: '* * * * *',
      retries: { max: 0, baseDelayMs: 0 },
      run: async () => {
        throw new Error('the disk is on fire', { cause: new Error('ENOSPC: no space left on device') });
      },
    }),
  ];
}

/**
 * A curfew on a fixed loopback port (the page's Origin must be the
 * configured public origin for login's origin check), with a cron secret
 * and an SMTP password configured (mail still goes to files), and the test jobs.
 */
export async function startConsoleApp(options: TestAppOptions = {}): Promise<TestApp> {
  return startTestApp({
    extraJobs: consoleJobs,
    ...options,
    env: {
      PORT: String(await freePort()),
      CRON_SECRETS: CRON_SECRET,
      SMTP_URL: `smtp://mailer:${SMTP_PASSWORD}@127.0.0.1:2525`,
      MAIL_TRANSPORT: 'file',
      ...options.env,
    },
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
}

/** A desktop-sized browser context (1280×800) that fails the test on any request off this origin. */
export async function consoleContext(browser: Browser, t: TestApp): Promise<{ context: BrowserContext; external: string[]; cspViolations: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const external: string[] = [];
  const cspViolations: string[] = [];
  context.on('request', (request) => {
    if (new URL(request.url()).host !== new URL(t.url).host) external.push(request.url());
  });
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, external, cspViolations };
}

/** Signs in through the console's sign-in form (labels "Email" and "Password"). */
export async function signIn(page: Page, t: TestApp, who: { email: string; password: string }): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${t.url}/admin/`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('[data-action="sign-out"]');
}

/** Saves the page at 1280×800 and at 390 px wide as `<name>-desktop.png` and `<name>-phone.png`. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.screenshot({ path: join(ARTIFACTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}

/** The configured secrets, plus the session's own tokens: none may appear in a page's HTML. */
export async function assertNoSecrets(page: Page, what: string): Promise<void> {
  const cookies = await page.context().cookies();
  const tokens = cookies.filter((cookie) => cookie.name === 'access_token' || cookie.name === 'refresh_token').map((cookie) => cookie.value);
  const html = await page.content();
  for (const secret of [CRON_SECRET, SMTP_PASSWORD, TEST_SECRET_KEY, ...tokens]) {
    assert.ok(!html.includes(secret), `${what}: the page shows a secret (${secret.slice(0, 6)}…)`);
  }
}

/** `fetch` from inside the page (same origin, the page's cookies); `csrf: false` leaves X-CSRFToken out. */
export async function pageFetch(page: Page, method: string, path: string, options: { body?: unknown; csrf?: boolean | string } = {}): Promise<{ status: number; body: unknown }> {
  return page.evaluate(async ({ method, path, body, csrf }) => {
    const doc = (globalThis as unknown as { document: { cookie: string } }).document;
    const token = /(?:^|;\s*)csrftoken=([^;]*)/.exec(doc.cookie)?.[1] ?? '';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (csrf === true) headers['x-csrftoken'] = decodeURIComponent(token);
    else if (typeof csrf === 'string') headers['x-csrftoken'] = csrf;
    const response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, body: parsed };
  }, { method, path, body: options.body, csrf: options.csrf ?? true });
}
