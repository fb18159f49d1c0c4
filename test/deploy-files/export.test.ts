import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Cron } from 'croner';
import { parse, parseAllDocuments } from 'yaml';
import { checkDrift, renderExport, type ExportJob } from '../../src/deploy-files/index.js';
import { AT, ENABLED, JOBS, SETTINGS } from './fixtures.js';

/** The next `count` fire times of a croner expression, as ISO strings. */
function nextRuns(expression: string, timezone: string, count: number, from: Date = AT): string[] {
  const cron = new Cron(expression, { timezone, paused: true });
  const runs: string[] = [];
  let cursor: Date | null = from;
  for (let i = 0; i < count && cursor; i++) {
    cursor = cron.nextRun(cursor);
    if (cursor) runs.push(cursor.toISOString());
  }
  return runs;
}

/** Registry semantics, minute resolution (external schedulers cannot fire per second). */
function registryRuns(job: ExportJob, count: number): string[] {
  const fields = job.schedule.startsWith('@') ? job.schedule : job.schedule.split(/\s+/).length === 6 ? job.schedule.split(/\s+/).slice(1).join(' ') : job.schedule;
  return nextRuns(fields, job.timezone, count);
}

describe('crontab export', () => {
  const text = renderExport('crontab', JOBS, SETTINGS);
  it('every job line parses with croner in its CRON_TZ and fires when the registry says', () => {
    let zone = 'UTC';
    const seen: string[] = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#') || line.startsWith('SHELL=')) continue;
      if (line.startsWith('CRON_TZ=')) {
        zone = line.slice('CRON_TZ='.length);
        continue;
      }
      const parts = line.split(' ');
      const cron = parts.slice(0, 5).join(' ');
      const job = parts[parts.indexOf('trigger') + 1] ?? '';
      const registered = JOBS.find((candidate) => candidate.name === job);
      assert.ok(registered, `line for unknown job: ${line}`);
      assert.equal(zone, registered.timezone);
      assert.deepEqual(nextRuns(cron, zone, 5), registryRuns(registered, 5), job);
      assert.match(line, /cd \/opt\/curfew && \/usr\/bin\/node \/opt\/curfew\/bin\/curfew.js trigger [a-z-]+ --url https:\/\/auth.example.com >> "\$HOME\/curfew-trigger.log" 2>&1$/);
      seen.push(job);
    }
    assert.deepEqual(seen.sort(), ENABLED.map((job) => job.name).sort());
    assert.match(text, /# logout-all-users: disabled in the registry/);
    assert.match(text, /# quarter-minute: seconds field "\*\/15" dropped/);
  });
});

describe('GitHub Actions export', () => {
  const text = renderExport('github-actions', JOBS, SETTINGS);
  const workflow = parse(text) as {
    on: { schedule: { cron: string }[]; workflow_dispatch: unknown };
    jobs: Record<string, { if: string; steps: { name?: string; run?: string; env?: Record<string, string> }[] }>;
  };
  const crons = workflow.on.schedule.map((item) => item.cron);

  it('is a workflow with workflow_dispatch and one schedule per distinct cron, each valid for croner', () => {
    assert.ok(workflow.on.workflow_dispatch);
    assert.equal(new Set(crons).size, crons.length);
    for (const cron of crons) assert.doesNotThrow(() => new Cron(cron, { paused: true }));
  });

  it('each enabled job fires at the registry instants in UTC (converted zones), or is noted', () => {
    for (const job of ENABLED) {
      const github = Object.values(workflow.jobs).find((candidate) => candidate.steps.some((step) => step.name === `trigger ${job.name}`));
      assert.ok(github, job.name);
      const cron = /github\.event\.schedule == '([^']+)'/.exec(github.if)?.[1] ?? '';
      assert.ok(crons.includes(cron), `${job.name}: ${cron} is listed under on.schedule`);
      if (job.name === 'kolkata-digest') {
        assert.match(text, /kolkata-digest: runs on UTC, not Asia\/Kolkata: its offset \+05:30/);
        continue;
      }
      // 3 runs stay inside January's offsets for every job here.
      assert.deepEqual(nextRuns(cron, 'UTC', 3), registryRuns(job, 3), `${job.name}: ${cron}`);
    }
    assert.match(text, /berlin-report: converted from Europe\/Berlin \(UTC\+01:00/);
  });

  it('signs a curl to the job\'s route with the secret as a reference only', () => {
    for (const [id, job] of Object.entries(workflow.jobs)) {
      const step = job.steps.find((candidate) => candidate.name?.startsWith('trigger '));
      assert.ok(step, id);
      assert.match(step.run ?? '', /openssl dgst -sha256 -hmac "\$CRON_SECRET"/);
      assert.equal(step.env?.CURFEW_ORIGIN, 'https://auth.example.com');
      assert.equal(step.env?.CURFEW_PATH, `/cron/jobs/${step.name?.slice('trigger '.length)}/run`);
      assert.equal(step.env?.CRON_SECRET, '${{ secrets.CRON_SECRET }}');
    }
  });
});

describe('systemd export', () => {
  const text = renderExport('systemd', JOBS, SETTINGS);
  const calendars = new Map<string, string[]>();
  let current = '';
  for (const line of text.split('\n')) {
    const file = /^# ---- file: curfew-job-(.+)\.(service|timer) ----$/.exec(line);
    if (file) current = file[1] ?? '';
    if (line.startsWith('OnCalendar=')) calendars.set(current, [...(calendars.get(current) ?? []), line.slice('OnCalendar='.length)]);
  }
  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const haveAnalyze = analyze.status === 0;

  it('has a .service and a .timer per enabled job', () => {
    assert.deepEqual([...calendars.keys()].sort(), ENABLED.map((job) => job.name).sort());
    for (const job of ENABLED) {
      assert.match(text, new RegExp(`ExecStart=/usr/bin/node /opt/curfew/bin/curfew.js trigger ${job.name} --url https://auth.example.com --secret-env CRON_SECRET`));
      assert.match(text, new RegExp(`Unit=curfew-job-${job.name}.service`));
    }
    assert.match(text, /EnvironmentFile=\/opt\/curfew\/.env/);
  });

  it(`OnCalendar values elapse at the registry's instants (${haveAnalyze ? 'checked with systemd-analyze calendar' : 'systemd-analyze missing: checked only by shape'})`, (t) => {
    if (!haveAnalyze) t.diagnostic('systemd-analyze not found; OnCalendar values were only checked by shape');
    for (const job of ENABLED) {
      const values = calendars.get(job.name) ?? [];
      if (job.name === 'ny-billing') assert.equal(values.length, 2, 'day-of-month OR day-of-week needs two OnCalendar lines');
      if (!haveAnalyze) {
        for (const value of values) assert.match(value, /^(\S+ )?\*-\S+-\S+ \S+:\S+:\S+ \S+$/);
        continue;
      }
      const count = 6;
      const elapses = new Set<string>();
      for (const value of values) {
        const result = spawnSync('systemd-analyze', ['calendar', `--iterations=${count}`, `--base-time=${AT.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, value], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
        assert.equal(result.status, 0, `${value}: ${result.stderr}`);
        for (const match of result.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)) {
          elapses.add(new Date(`${match[1]?.replace(' ', 'T')}Z`).toISOString());
        }
      }
      // systemd fires at second resolution; the registry's seconds job fires every 15 s.
      const expected = job.name === 'quarter-minute' ? nextRuns(job.schedule, job.timezone, count) : registryRuns(job, count);
      assert.deepEqual([...elapses].sort().slice(0, count), expected, `${job.name}: ${values.join(' | ')}`);
    }
  });
});

describe('Kubernetes export', () => {
  const text = renderExport('kubernetes', JOBS, SETTINGS);
  const manifests = parseAllDocuments(text).map((document) => document.toJS() as {
    kind: string;
    metadata: { name: string };
    spec: { schedule: string; timeZone: string; concurrencyPolicy: string; jobTemplate: { spec: { template: { spec: { containers: { image: string; args: string[]; env: { name: string; valueFrom?: { secretKeyRef?: unknown }; value?: string }[] }[] } } } } };
  });

  it('one CronJob per enabled job with the registry schedule and timeZone', () => {
    assert.equal(manifests.length, ENABLED.length);
    for (const manifest of manifests) {
      assert.equal(manifest.kind, 'CronJob');
      const container = manifest.spec.jobTemplate.spec.template.spec.containers[0];
      const job = JOBS.find((candidate) => candidate.name === container?.args[1]);
      assert.ok(job && container);
      assert.equal(manifest.spec.timeZone, job.timezone);
      assert.equal(manifest.spec.concurrencyPolicy, 'Forbid');
      assert.deepEqual(nextRuns(manifest.spec.schedule, manifest.spec.timeZone, 5), registryRuns(job, 5));
      assert.deepEqual(container.args.slice(0, 1), ['trigger']);
      assert.deepEqual(container.env, [{ name: 'CRON_SECRET', valueFrom: { secretKeyRef: { name: 'curfew', key: 'cron-secret' } } }]);
      assert.equal(container.image, 'ghcr.io/example/curfew:1.0');
    }
  });
});

describe('compose export', () => {
  it('a cron sidecar calling --due every minute, the registry recorded under x-curfew-jobs', () => {
    const compose = parse(renderExport('compose', JOBS, SETTINGS)) as { 'x-curfew-jobs': { job: string; schedule: string; timezone: string }[]; services: Record<string, { command: string[]; environment: Record<string, string> }> };
    assert.deepEqual(compose['x-curfew-jobs'], ENABLED.map((job) => ({ job: job.name, schedule: job.schedule, timezone: job.timezone })));
    const sidecar = compose.services.cron;
    assert.match(sidecar?.command[0] ?? '', /node bin\/curfew.js trigger --due --url https:\/\/auth.example.com --secret-env CRON_SECRET/);
    assert.equal(sidecar?.environment.CRON_SECRET, '${CRON_SECRET:?set CRON_SECRET in .env}');
  });
});

describe('export --check (drift)', () => {
  for (const format of ['github-actions', 'crontab', 'systemd', 'kubernetes', 'compose'] as const) {
    it(`${format}: in sync right after export; schedule, zone, removal and disabling are drift`, () => {
      const text = renderExport(format, JOBS, SETTINGS);
      assert.deepEqual(checkDrift(text, JOBS, AT), { format, problems: [] });
      const changed = JOBS.map((job) => (job.name === 'flush-expired-tokens' ? { ...job, schedule: '15 0 * * *' } : job));
      assert.match(checkDrift(text, changed, AT)?.problems.join('\n') ?? '', /flush-expired-tokens: file has "[^"]+"/);
      const removed = JOBS.filter((job) => job.name !== 'berlin-report');
      assert.match(checkDrift(text, removed, AT)?.problems.join('\n') ?? '', /berlin-report: in the file but not a registered job/);
      const disabled = JOBS.map((job) => (job.name === 'check-inactive-users' ? { ...job, enabled: false } : job));
      assert.match(checkDrift(text, disabled, AT)?.problems.join('\n') ?? '', /check-inactive-users: in the file but disabled/);
      const enabled = JOBS.map((job) => ({ ...job, enabled: true }));
      assert.match(checkDrift(text, enabled, AT)?.problems.join('\n') ?? '', /logout-all-users: missing from the file/);
      if (format !== 'github-actions' && format !== 'systemd') {
        const moved = JOBS.map((job) => (job.name === 'flush-expired-tokens' ? { ...job, timezone: 'Europe/Paris' } : job));
        assert.match(checkDrift(text, moved, AT)?.problems.join('\n') ?? '', /flush-expired-tokens: file has .*\(UTC\), registry wants .*\(Europe\/Paris\)/);
      }
    });
  }

  it('a --job selection is remembered: other jobs are not reported missing', () => {
    const text = renderExport('crontab', JOBS, { ...SETTINGS, selection: ['flush-expired-tokens'] });
    assert.deepEqual(checkDrift(text, JOBS, AT)?.problems, []);
  });

  it('GitHub: a DST change of the offset is drift (re-export converts again)', () => {
    const text = renderExport('github-actions', JOBS, SETTINGS);
    const summer = new Date('2026-07-15T12:00:00Z');
    assert.match(checkDrift(text, JOBS, summer)?.problems.join('\n') ?? '', /berlin-report: file has "30 1 \* \* 1-5", registry wants "30 0 \* \* 1-5"/);
  });

  it('a single systemd .timer file (no marker) checks just its job', () => {
    const text = renderExport('systemd', JOBS, SETTINGS);
    const timer = text.split('# ---- file: ').find((part) => part.startsWith('curfew-job-berlin-report.timer')) ?? '';
    assert.deepEqual(checkDrift(timer, JOBS, AT), { format: 'systemd', problems: [] });
    assert.match(checkDrift(timer.replace('2:30:0', '3:30:0'), JOBS, AT)?.problems.join('\n') ?? '', /berlin-report: file has/);
  });

  it('an unrelated file is not an export', () => {
    assert.equal(checkDrift('hello\n', JOBS, AT), undefined);
  });
});
