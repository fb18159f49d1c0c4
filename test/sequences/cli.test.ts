import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { BASE_TEST_ENV, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { VariantSmtpServer } from './smtp-variants.js';
import { seedUsers } from './support.js';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('curfew sequences / sends / jobs run sequence-tick --dry-run', () => {
  let database: TestDatabase;
  let smtp: VariantSmtpServer;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    database = await createTestDatabase();
    smtp = await new VariantSmtpServer().start();
    dir = mkdtempSync(join(tmpdir(), 'curfew-seq-cli-'));
    env = { ...BASE_TEST_ENV, ...database.env, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent', SMTP_URL: smtp.url };
  });
  after(async () => {
    await smtp.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function cli(args: readonly string[]): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['bin/curfew.js', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
    const app = await createApp(loadConfig({ env, secretKey: TEST_SECRET_KEY }));
    await app.start({ listen: false, background: false });
    try {
      return await fn(app);
    } finally {
      await app.stop();
    }
  }

  it('applies a YAML file, enrolls, previews a dry run, and lists and resolves unknown sends', async () => {
    const file = join(dir, 'sequences.yaml');
    writeFileSync(file, ['sequences:', '  - key: onboarding', '    name: Onboarding', '    steps:', '      - delay: 0s', '        subject: "Hi {{ first_name }}"', '        text: "Welcome. {{ unsubscribe_url }}"', ''].join('\n'));
    const applied = await cli(['sequences', 'apply', file]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /onboarding: created \(1 steps, active\)/);
    assert.match((await cli(['sequences', 'apply', file])).stdout, /onboarding: updated/);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ key: 'broken', name: 'B', steps: [{ delay: '1d', subject: 's', text: '{{ secret }}' }] }));
    const refused = await cli(['sequences', 'apply', bad]);
    assert.equal(refused.code, 64);
    assert.match(refused.stderr, /steps\[0\]\.text: template error: unknown variable \{\{secret\}\}/);

    await withApp((app) => seedUsers(app, 2));
    const enrolled = await cli(['sequences', 'enroll', 'onboarding', '--email', 'u0@example.com']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.match(enrolled.stdout, /^enrolled: enrollment \d+/);
    assert.equal((await cli(['sequences', 'enroll', 'nope', '--email', 'u0@example.com'])).code, 64);

    const dry = await cli(['jobs', 'run', 'sequence-tick', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would send onboarding step 1 "Hi \{\{ first_name \}\}" to u0@example\.com/);
    assert.match(dry.stdout, /would_send=1/);
    assert.equal(smtp.received.length, 0, 'a dry run sends nothing');

    smtp.behaviour = { kind: 'drop-after-data' };
    const run = await cli(['jobs', 'run', 'sequence-tick']);
    assert.match(run.stdout, /unknown=1/);
    const status = await cli(['jobs', 'status']);
    assert.match(status.stdout, /unknown sends: 1/);
    const listed = await cli(['sends', 'list', '--state', 'unknown']);
    const id = /^(\d+)\s+onboarding\s+1\s+u0@example\.com\s+unknown/m.exec(listed.stdout)?.[1];
    assert.ok(id, listed.stdout);
    assert.match((await cli(['sequences', 'status'])).stdout, /UNKNOWN: 1 sends need a verdict/);
    const resolved = await cli(['sends', 'resolve', id, '--sent']);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.match(resolved.stdout, new RegExp(`send ${id}: sent`));
    assert.equal((await cli(['sends', 'resolve', id, '--retry'])).code, 1, 'only unknown sends are resolved');
    assert.equal((await cli(['sends', 'resolve', id])).code, 64);
  });
});
