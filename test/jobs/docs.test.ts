import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { BASE_TEST_ENV, LogCapture, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * Issue 15 §4: docs/scheduler.md called jobs placeholders long after they got
 * their bodies. Its job table is now checked against the registry the app
 * builds: names, default schedules, enabled flags, catch-up policies, and
 * "placeholder" exactly where the job is still one. The README's shorter
 * table is held to the same registry (names, schedules, disabled).
 */
describe('docs/scheduler.md and README job tables', () => {
  let database: TestDatabase;
  let app: App;
  before(async () => {
    database = await createTestDatabase();
    app = await createApp(loadConfig({ env: { ...BASE_TEST_ENV, ...database.env }, secretKey: TEST_SECRET_KEY }), { logDestination: new LogCapture() });
  });
  after(async () => {
    await app.stop();
    await database.drop();
  });

  it('matches the registry row for row', () => {
    const doc = readFileSync('docs/scheduler.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Jobs'), doc.indexOf('### Overrides'));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| `([^`]+)` \| (\*\*no\*\*|yes) \| (\w+) \| (.+) \|$/gm)].map((m) => ({
      job: m[1],
      schedule: m[2],
      enabled: m[3] === 'yes',
      catchUp: m[4],
      placeholder: /placeholder/.test(m[5] ?? ''),
    }));
    const registry = app.services.jobs.definitions().map((d) => ({
      job: d.name,
      schedule: d.schedule,
      enabled: d.enabled,
      catchUp: d.catchUp.kind,
      placeholder: d.placeholder !== undefined,
    }));
    assert.deepEqual(rows, registry);
  });

  it('the README job table names the same jobs, schedules and disabled ones', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Jobs'), readme.indexOf('## Fire jobs from outside'));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| `([^`]+)`(, \*\*disabled\*\*)? \| .+ \|$/gm)]
      .map((m) => ({ job: m[1], schedule: m[2], enabled: m[3] === undefined }))
      .sort((a, b) => String(a.job).localeCompare(String(b.job)));
    const registry = app.services.jobs
      .definitions()
      .map((d) => ({ job: d.name, schedule: d.schedule, enabled: d.enabled }))
      .sort((a, b) => a.job.localeCompare(b.job));
    assert.deepEqual(rows, registry);
  });
});
