import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser } from '../../auth/support.js';
import type { TestApp } from '../../helpers/app.js';
import { HttpClient } from '../../helpers/http.js';
import { insertPastRun } from '../../helpers/ledger.js';
import { describeIfAvailable } from '../../helpers/postgres-only.js';
import { eventually } from '../../helpers/processes.js';
import { ADMIN, CRON_SECRET, MEMBER, assertNoSecrets, chromiumMissing, consoleContext, launchChromium, screenshots, signIn, startConsoleApp } from './support.js';

interface StatusJob {
  job: string;
  paused?: boolean;
  paused_by?: string | null;
}

describeIfAvailable('the console: overview, jobs and run history, in Chromium', chromiumMissing, () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cspViolations: string[];
  let external: string[];

  const cronStatus = async (): Promise<StatusJob[]> => {
    const response = await new HttpClient(t.url).get<{ jobs: StatusJob[] }>('/cron/status', { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    assert.equal(response.status, 200, response.text);
    return response.body.jobs;
  };
  const jobRow = (name: string) => page.locator(`#jobs-table tr[data-job="${name}"]`);

  before(async () => {
    // logout-all-users enabled, sparing admins, so the console's own session survives its Run now.
    // background: the revocation view refreshes (~1 s), as on a real server.
    t = await startConsoleApp({ background: true, env: { JOB_LOGOUT_ALL_USERS_ENABLED: 'true', JOB_LOGOUT_ALL_USERS_EXCLUDE_ROLES: 'admin' } });
    await createUser(t, { ...ADMIN, role: 'admin' });
    await createUser(t, MEMBER);
    browser = await launchChromium();
    ({ context, cspViolations, external } = await consoleContext(browser, t));
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, t, ADMIN);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows every job with its schedule, state and actions', async () => {
    await page.goto(`${t.url}/admin/jobs/`);
    const names = t.app.services.jobs.definitions().map((job) => job.name);
    await page.waitForSelector(`body[data-jobs="${names.length}"]`);
    for (const name of names) {
      const row = jobRow(name);
      assert.equal(await row.count(), 1, name);
      for (const action of ['Run now', 'Dry run', 'Pause']) assert.equal(await row.getByRole('button', { name: `${action}: ${name}`, exact: true }).count(), 1, `${name}: ${action}`);
    }
    assert.match(await jobRow('flush-expired-tokens').innerText(), /0 0 \* \* \*\s+UTC/);
    await screenshots(page, 'jobs');
    await assertNoSecrets(page, 'jobs');
  });

  it('"Run now" on a job: its new run appears in the open run history without a reload', async () => {
    const history = await context.newPage();
    await history.goto(`${t.url}/admin/runs/?job=console-echo`);
    await history.locator('#runs-empty:not([hidden]), #runs-table tbody tr').first().waitFor();
    await history.evaluate(() => { (globalThis as unknown as { stayed: boolean }).stayed = true; });

    await page.goto(`${t.url}/admin/jobs/`);
    await jobRow('console-echo').getByRole('button', { name: 'Run now: console-echo' }).click();
    const link = page.locator('#notice a', { hasText: /Open run \d+/ });
    await link.waitFor();
    assert.match(await page.locator('#notice').innerText(), /Run of console-echo: ok .*echoed 1/);
    const runId = /(\d+)/.exec(await link.innerText())?.[1];
    assert.ok(runId);

    await history.locator(`#runs-table tr[data-run-id="${runId}"]`).waitFor({ timeout: 15_000 });
    assert.equal(await history.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed), true, 'the history page was not reloaded');
    await history.close();
  });

  it('"Dry run" counts without doing, and logout-all-users\' "Run now" shows the dry-run counts before anything happens', async () => {
    await jobRow('console-echo').getByRole('button', { name: 'Dry run: console-echo' }).click();
    await page.locator('#notice', { hasText: /Dry run of console-echo: ok .*echoed 0/ }).waitFor();

    const member = new HttpClient(t.url);
    assert.equal((await member.post('/api/v1/login/', { json: MEMBER })).status, 200);
    await jobRow('logout-all-users').getByRole('button', { name: 'Run now: logout-all-users' }).click();
    const dialog = page.locator('#confirm');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /dry run just counted/i);
    await screenshots(page, 'jobs-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#notice', { hasText: /Not run/ }).waitFor();
    assert.equal((await member.get('/api/v1/me/')).status, 200, 'cancelled: nobody was logged out');

    await jobRow('logout-all-users').getByRole('button', { name: 'Run now: logout-all-users' }).click();
    await dialog.getByRole('button', { name: 'Run it for real' }).click();
    await page.locator('#notice', { hasText: /Run of logout-all-users: ok .*revoked 1\b/ }).waitFor();
    await eventually(async () => (await member.get('/api/v1/me/')).status === 401, "the member's session is refused");
    assert.equal(await page.evaluate(async () => (await fetch('/api/v1/me/')).status), 200, 'the admin (role excluded) is still signed in');
  });

  it('pauses a job from the page (/cron/status reports it paused) and resumes it', async () => {
    await jobRow('console-echo').getByRole('button', { name: 'Pause: console-echo' }).click();
    await page.getByLabel('Reason (optional)').fill('database maintenance');
    await page.locator('#confirm').getByRole('button', { name: 'Pause' }).click();
    await jobRow('console-echo').getByRole('button', { name: 'Resume: console-echo' }).waitFor();
    assert.match(await jobRow('console-echo').innerText(), /paused/);
    const paused = (await cronStatus()).find((job) => job.job === 'console-echo');
    assert.equal(paused?.paused, true);
    assert.match(String(paused?.paused_by), /root@example\.test|admin/);

    await jobRow('console-echo').getByRole('button', { name: 'Resume: console-echo' }).click();
    await jobRow('console-echo').getByRole('button', { name: 'Pause: console-echo' }).waitFor();
    assert.equal((await cronStatus()).find((job) => job.job === 'console-echo')?.paused, false);
  });

  it('shows "Cron is late" when a job\'s last run is older than its threshold, and the last cron run', async () => {
    const threeHoursAgo = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;
    await page.goto(`${t.url}/admin/`);
    await page.locator('#updated-at', { hasText: /UTC/ }).waitFor();
    assert.equal(await page.locator('#late-banner').isVisible(), false, 'nothing is late yet');
    await page.evaluate(() => { (globalThis as unknown as { stayed: boolean }).stayed = true; });
    await insertPastRun(t.app.services.storage, { job: 'check-inactive-users', status: 'ok', startedAt: threeHoursAgo, durationMs: 40 });
    const banner = page.locator('#late-banner');
    await banner.waitFor({ timeout: 15_000 });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed), true, 'the overview refreshed itself, no reload');
    assert.match(await banner.innerText(), /Cron is late/);
    assert.match(await banner.innerText(), /check-inactive-users is late by/);
    assert.match(await page.locator('#last-run-at').innerText(), /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    assert.match(await page.locator('#last-run-who').innerText(), /logout-all-users, fired by an admin in the console \(console\) from 127\.0\.0\.1/);
    await screenshots(page, 'overview');
    await assertNoSecrets(page, 'overview');
    await page.goto(`${t.url}/admin/jobs/`);
    await jobRow('check-inactive-users').locator('.badge.late', { hasText: /late 2 h \d+ min/ }).waitFor();
  });

  it('opens a failed run from the history and shows its error and stack', async () => {
    const run = await t.app.services.jobs.runJob('console-fails', { dryRun: false, trigger: 'cli', caller: {} });
    assert.equal(run.status, 'failed');
    await page.goto(`${t.url}/admin/runs/`);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('From (UTC)').fill(new Date(Date.now() - 3_600_000).toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=failed/);
    await page.locator(`#runs-table tr[data-run-id="${run.id}"]`).waitFor();
    const statuses = await page.locator('#runs-table tbody tr .badge').allInnerTexts();
    assert.ok(statuses.length > 0 && statuses.every((status) => status === 'failed'), statuses.join());
    await page.getByRole('link', { name: `#${run.id}` }).click();
    await page.waitForURL(`**/admin/runs/${run.id}/`);
    const error = page.locator('#run-error');
    await error.waitFor();
    assert.match(await error.innerText(), /the disk is on fire/);
    assert.match(await page.locator('#run-error-detail').innerText(), /ENOSPC/);
    assert.match(await page.locator('#run-facts').innerText(), /console-fails/);
    await screenshots(page, 'run-failed');
    await assertNoSecrets(page, 'run detail');
    await page.goto(`${t.url}/admin/`);
    await page.locator('#failing-list li', { hasText: /console-fails — 1 failure in a row: the disk is on fire/ }).waitFor();
  });

  it('draws the duration chart per job with failures marked', async () => {
    const base = Date.now() - 3_600_000;
    for (let i = 0; i < 6; i += 1) {
      await insertPastRun(t.app.services.storage, { job: 'console-echo', status: 'ok', startedAt: base + i * 60_000, durationMs: 20 + i * 15, counts: { echoed: 1 } });
    }
    await insertPastRun(t.app.services.storage, { job: 'console-fails', status: 'failed', startedAt: base + 90_000, durationMs: 70, error: 'boom' });
    await page.goto(`${t.url}/admin/runs/`);
    const chart = page.locator('#chart');
    await chart.locator('canvas').waitFor();
    const data = await chart.evaluate((node) => ({ ...(node as unknown as { dataset: Record<string, string> }).dataset }));
    const jobsWithRuns = new Set((await t.app.services.storage.db.selectFrom('cron_runs').select('job').where('duration_ms', 'is not', null).execute()).map((row) => row.job));
    assert.equal(Number(data.series), jobsWithRuns.size, JSON.stringify(data));
    assert.ok(Number(data.points) >= 9, JSON.stringify(data));
    assert.ok(Number(data.failures) >= 2, JSON.stringify(data));
    // uPlot's legend: the x series, one per job, and the failures.
    assert.equal(await chart.locator('.u-legend .u-series').count(), jobsWithRuns.size + 2);
    await screenshots(page, 'runs');
    await assertNoSecrets(page, 'runs');
  });

  it('pages the history: "Older runs" goes on from the last row, "Newest runs" back', async () => {
    const base = Date.now() - 2 * 86_400_000;
    for (let i = 0; i < 55; i += 1) await insertPastRun(t.app.services.storage, { job: 'console-echo', status: 'ok', startedAt: base + i * 60_000, durationMs: 5 });
    await page.goto(`${t.url}/admin/runs/?job=console-echo`);
    const rows = page.locator('#runs-table tbody tr');
    await page.locator('#older:not([hidden])').waitFor();
    assert.equal(await rows.count(), 50);
    const firstPage = new Set(await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { runId: string } }).dataset.runId)));
    await page.locator('#older').click();
    await page.locator('#newest:not([hidden])').waitFor();
    await rows.first().waitFor();
    const secondPage = await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { runId: string } }).dataset.runId));
    assert.ok(secondPage.length > 0 && secondPage.every((id) => !firstPage.has(id)), 'the next page holds other runs');
    assert.match(await page.locator('#live-note').innerText(), /older page/);
    assert.equal(await page.locator('#f-job').inputValue(), 'console-echo', 'the filter stays');
  });

  it('truncates a huge output in the list and pages it in the run detail', async () => {
    const output = Array.from({ length: 1000 }, (_, i) => `line ${String(i).padStart(4, '0')}`).join('\n');
    const id = await insertPastRun(t.app.services.storage, { job: 'console-echo', status: 'ok', startedAt: Date.now() - 1000, durationMs: 9, output });
    await page.goto(`${t.url}/admin/runs/?job=console-echo`);
    const preview = page.locator(`#runs-table tr[data-run-id="${id}"] .preview`);
    await preview.waitFor();
    const shown = await preview.innerText();
    assert.ok(shown.length < output.length / 4 && shown.endsWith('…'), `the list shows a preview (${shown.length} characters)`);
    await page.goto(`${t.url}/admin/runs/${id}/`);
    await page.locator('#output-range', { hasText: `Characters 1–4000 of ${output.length}.` }).waitFor();
    assert.match(await page.locator('#run-output').innerText(), /^line 0000/);
    await page.getByRole('button', { name: 'Next part' }).click();
    await page.locator('#output-range', { hasText: `Characters 4001–8000 of ${output.length}.` }).waitFor();
    await page.getByRole('button', { name: 'Previous part' }).click();
    await page.locator('#output-range', { hasText: 'Characters 1–4000' }).waitFor();
  });

  it('answers junk filters with a 400 page and a notice, never a 500', async () => {
    const junk = ['status=bogus', 'job=%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'trigger=cron', 'from=yesterday', 'to=2026-13-45T99:99', 'cursor=%21%21%21', 'from=2026-01-02T00:00&to=2026-01-01T00:00', 'job=a&job=b'];
    for (const query of junk) {
      const response = await page.goto(`${t.url}/admin/runs/?${query}`);
      assert.equal(response?.status(), 400, query);
      await page.locator('#refused').waitFor();
      assert.equal(await page.locator('script:not([src])').count(), 0, `${query}: no inline script`);
    }
    assert.equal((await page.goto(`${t.url}/admin/runs/abc/`))?.status(), 404);
    assert.equal((await page.goto(`${t.url}/admin/nothing/here/`))?.status(), 404);
    await page.goto(`${t.url}/admin/users/999999/`);
    await page.locator('#notice', { hasText: /USER_NOT_FOUND/ }).waitFor();
    assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violation on any page');
    assert.deepEqual(external, [], 'nothing from another origin');
  });
});
