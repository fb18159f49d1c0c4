import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { renderExport } from '../../src/deploy-files/index.js';
import { BASE_TEST_ENV, startTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/app.js';
import { runCli } from '../cli/support.js';
import { JOBS, SETTINGS } from './fixtures.js';

const SECRET = 'github-actions-export-secret-0123456789abcdef';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
}
interface Workflow {
  jobs: Record<string, { steps: Step[] }>;
}

/** Runs a workflow step's bash script as the runner would, with `${{ secrets.X }}` filled in. */
function runStep(step: Step, secret: string, cwd: string): Promise<{ code: number | null; output: string }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [key, value] of Object.entries(step.env ?? {})) env[key] = value.replace(/\$\{\{ secrets\.\w+ \}\}/, secret);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-c', step.run ?? ''], { env, cwd });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('export github-actions: needs --url, no npm ci per firing, the curl step works', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'curfew-gha-'));
  before(async () => {
    t = await startTestApp({ env: { CRON_SECRETS: SECRET } });
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without --url refuses, exit 64 (bug: a workflow calling 127.0.0.1)', async () => {
    const result = await runCli(['export', 'github-actions'], { env: { ...BASE_TEST_ENV, ...t.database.env, SECRET_KEY: TEST_SECRET_KEY } });
    assert.equal(result.code, 64, result.stdout);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /--url/);
  });

  it('no checkout, setup-node or npm ci: one step per job (bug: npm ci on every firing)', () => {
    const workflow = parse(renderExport('github-actions', JOBS, SETTINGS)) as Workflow;
    for (const [id, job] of Object.entries(workflow.jobs)) {
      assert.equal(job.steps.length, 1, id);
      for (const step of job.steps) {
        assert.equal(step.uses, undefined, `${id}: no actions to download`);
        assert.doesNotMatch(step.run ?? '', /npm|npx/, `${id}: installs nothing`);
      }
    }
  });

  it("the step's signed curl runs the job on a real server; a wrong secret fails the step", async () => {
    const workflow = parse(renderExport('github-actions', [{ name: 'flush-expired-tokens', schedule: '0 0 * * *', timezone: 'UTC', enabled: true }], { ...SETTINGS, url: t.url })) as Workflow;
    const step = workflow.jobs['flush-expired-tokens']?.steps[0];
    assert.ok(step);
    const ok = await runStep(step, SECRET, dir);
    assert.equal(ok.code, 0, ok.output);
    assert.match(ok.output, /attempt 1: HTTP 200/);
    const runs = await t.app.services.storage.db.selectFrom('cron_runs').select(['job', 'trigger', 'status']).execute();
    assert.deepEqual(runs, [{ job: 'flush-expired-tokens', trigger: 'http', status: 'ok' }]);
    const refused = await runStep(step, 'a-wrong-secret-a-wrong-secret-a-wrong-secret', dir);
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, /attempt 1: HTTP 401/);
    assert.doesNotMatch(refused.output, /attempt 2/, 'a refusal is not retried');
  });
});

describe('export kubernetes and compose', () => {
  it('kubernetes: every CronJob pod runs as a numeric non-root user (bug: runAsNonRoot could not verify USER node)', () => {
    for (const document of parseAllDocuments(renderExport('kubernetes', JOBS, SETTINGS))) {
      const manifest = document.toJS() as { spec: { jobTemplate: { spec: { template: { spec: { securityContext: { runAsNonRoot?: boolean; runAsUser?: number } } } } } } };
      const context = manifest.spec.jobTemplate.spec.template.spec.securityContext;
      assert.equal(context.runAsNonRoot, true);
      assert.equal(typeof context.runAsUser, 'number');
      assert.notEqual(context.runAsUser, 0);
    }
    assert.match(readFileSync('Dockerfile', 'utf8'), /^USER 1000:1000$/m, 'the image runs as that same uid');
  });

  it('compose: the exported sidecar has the shipped docker-compose.yaml\'s service name and command (bug: curfew-cron vs cron)', () => {
    type Compose = { services: Record<string, { command?: string[] }> };
    const shipped = parse(readFileSync('docker-compose.yaml', 'utf8')) as Compose;
    const exported = parse(renderExport('compose', JOBS, { ...SETTINGS, url: 'http://curfew:8000' })) as Compose;
    for (const [name, service] of Object.entries(exported.services)) {
      assert.ok(shipped.services[name], `shipped file has ${name}`);
      assert.deepEqual(service.command, shipped.services[name]?.command);
    }
  });
});
