import { Document, isMap, isScalar, isSeq, parse } from 'yaml';
import { headerLines, leftOutLines, type PlannedEntries } from './entries.js';
import type { ExportSettings, ScheduleEntry } from './types.js';

/** A GitHub job id from a job name (ids must start with a letter or `_`). */
function jobId(name: string): string {
  return /^[a-z_]/i.test(name) ? name : `job-${name}`;
}

/**
 * A workflow with one `schedule` entry per distinct cron (GitHub cron is UTC,
 * see utcCron), `workflow_dispatch` with an optional job input, and one
 * GitHub job per curfew job that runs when its cron fired. Each calls
 * `npx curfew trigger <job>` with the secret from `${{ secrets.<name> }}`.
 */
export function renderGithubActions(plan: PlannedEntries, disabled: readonly string[], settings: ExportSettings): string {
  const crons = [...new Set(plan.entries.map((entry) => entry.schedule))];
  const jobs: Record<string, unknown> = {};
  for (const entry of plan.entries) {
    jobs[jobId(entry.job)] = {
      if: `github.event.schedule == '${entry.schedule}' || (github.event_name == 'workflow_dispatch' && (inputs.job == '' || inputs.job == '${entry.job}'))`,
      'runs-on': 'ubuntu-latest',
      'timeout-minutes': 10,
      steps: [
        { uses: 'actions/checkout@v4' },
        { uses: 'actions/setup-node@v4', with: { 'node-version': 20, cache: 'npm' } },
        { run: 'npm ci --omit=dev' },
        {
          name: `trigger ${entry.job}`,
          run: `npx curfew trigger ${entry.job} --url "$CURFEW_URL" --secret-env ${settings.secretEnv}`,
          env: { CURFEW_URL: settings.url, [settings.secretEnv]: `\${{ secrets.${settings.secretEnv} }}` },
        },
      ],
    };
  }
  const document = new Document({
    name: 'curfew jobs',
    on: {
      schedule: crons.map((cron) => ({ cron })),
      workflow_dispatch: { inputs: { job: { description: 'job to run now (empty: every job below)', required: false, default: '' } } },
    },
    permissions: { contents: 'read' },
    jobs,
  });
  const schedule = document.getIn(['on', 'schedule']);
  if (isSeq(schedule)) {
    schedule.items.forEach((item, index) => {
      const names = plan.entries.filter((entry) => entry.schedule === crons[index]).map((entry) => entry.job);
      const value = isMap(item) ? item.items[0]?.value : undefined;
      if (isScalar(value)) value.comment = ` ${names.join(', ')}`;
    });
  }
  const notes = plan.entries.filter((entry) => entry.note).map((entry) => `# ${entry.job}: ${entry.note}`);
  document.commentBefore = [
    ...headerLines('github-actions', settings.selection),
    `# Needs the repository secret ${settings.secretEnv} (Settings -> Secrets and variables -> Actions), the same value as the server's CRON_SECRETS.`,
    '# GitHub cron is UTC, fires at most every 5 minutes and is often 5-30 minutes late or skipped under load;',
    "# curfew's catch-up policy runs the latest missed slot and /cron/status flags a job late (docs/deploy/paas.md).",
    ...notes,
    ...leftOutLines(disabled, plan.skipped),
  ]
    .map((line) => line.replace(/^# ?/, ' '))
    .join('\n');
  return document.toString({ lineWidth: 0 });
}

/** The jobs a workflow triggers and the cron each one's `if` waits for (checked against `on.schedule`). */
export function extractGithubActions(text: string): ScheduleEntry[] {
  const workflow = parse(text) as { on?: { schedule?: { cron?: string }[] }; jobs?: Record<string, { if?: string; steps?: { run?: string }[] }> } | null;
  const listed = new Set((workflow?.on?.schedule ?? []).map((item) => item.cron));
  const entries: ScheduleEntry[] = [];
  for (const job of Object.values(workflow?.jobs ?? {})) {
    const name = (job.steps ?? []).map((step) => /\btrigger\s+([a-z0-9][a-z0-9-]*)/.exec(step.run ?? '')?.[1]).find(Boolean);
    const cron = /github\.event\.schedule\s*==\s*'([^']*)'/.exec(job.if ?? '')?.[1];
    if (!name) continue;
    entries.push({ job: name, schedule: cron !== undefined && listed.has(cron) ? cron : `(not scheduled: ${cron ?? 'no schedule condition'})`, timezone: undefined });
  }
  return entries;
}
