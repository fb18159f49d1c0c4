import { Document, isMap, isScalar, isSeq, parse } from 'yaml';
import { headerLines, leftOutLines, type PlannedEntries } from './entries.js';
import { defaultPath, resolveUrl } from '../trigger-client/request.js';
import type { ExportSettings, ScheduleEntry } from './types.js';

/** A GitHub job id from a job name (ids must start with a letter or `_`). */
function jobId(name: string): string {
  return /^[a-z_]/i.test(name) ? name : `job-${name}`;
}

/** SHA-256 of the empty body every trigger call sends (part of the signed canonical request). */
const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * The step's shell: a signed POST (src/triggers/signature.ts) with curl and
 * openssl, which every runner image has, so a firing installs nothing. It
 * signs again for each attempt with a fresh nonce (a replayed nonce is
 * refused); it sends no X-Curfew-Slot (optional: the server then runs the
 * job's current slot), retries
 * network errors and 5xx three times with back-off, and fails on any other
 * non-2xx answer.
 */
export function signedCurlScript(): string {
  return [
    'for attempt in 1 2 3 4; do',
    '  ts=$(date +%s)',
    '  nonce=$(openssl rand -hex 16)',
    `  sig=$(printf 'v2\\nPOST\\n%s\\n%s\\n%s\\n\\n%s' "$CURFEW_PATH" "$ts" "$nonce" "${EMPTY_BODY_SHA256}" | openssl dgst -sha256 -hmac "$CRON_SECRET" -r | cut -d' ' -f1)`,
    '  status=$(curl -sS -o response.json -w \'%{http_code}\' --max-time 30 -X POST -H "X-Curfew-Timestamp: $ts" -H "X-Curfew-Nonce: $nonce" -H "X-Curfew-Signature: v2=$sig" -H "User-Agent: curfew-github-actions" "$CURFEW_ORIGIN$CURFEW_PATH") || status=000',
    '  echo "attempt $attempt: HTTP $status $(cat response.json 2>/dev/null)"',
    '  case "$status" in',
    '    2??) exit 0 ;;',
    '    000|5??) sleep $((attempt * 15)) ;;',
    '    *) exit 1 ;;',
    '  esac',
    'done',
    'exit 1',
    '',
  ].join('\n');
}

/**
 * A workflow with one `schedule` entry per distinct cron (GitHub cron is UTC,
 * see utcCron), `workflow_dispatch` with an optional job input, and one
 * GitHub job per curfew job that runs when its cron fired. Each is one step:
 * a signed `curl` to `/cron/jobs/<job>/run` with the secret from
 * `${{ secrets.<name> }}` (no checkout, no `npm ci`: a few seconds per firing).
 */
export function renderGithubActions(plan: PlannedEntries, disabled: readonly string[], settings: ExportSettings): string {
  const crons = [...new Set(plan.entries.map((entry) => entry.schedule))];
  const jobs: Record<string, unknown> = {};
  const base = new URL(settings.url);
  for (const entry of plan.entries) {
    jobs[jobId(entry.job)] = {
      if: `github.event.schedule == '${entry.schedule}' || (github.event_name == 'workflow_dispatch' && (inputs.job == '' || inputs.job == '${entry.job}'))`,
      'runs-on': 'ubuntu-latest',
      'timeout-minutes': 10,
      steps: [
        {
          name: `trigger ${entry.job}`,
          shell: 'bash',
          run: signedCurlScript(),
          env: {
            CURFEW_ORIGIN: base.origin,
            CURFEW_PATH: resolveUrl(base, defaultPath(entry.job)).pathname,
            CRON_SECRET: `\${{ secrets.${settings.secretEnv} }}`,
          },
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
    '# Each firing is one step on a fresh runner: a signed curl (no checkout, no npm ci), a few seconds, billed as one',
    '# minute per GitHub job on private repositories (free on public ones); docs/deploy/paas.md has the arithmetic.',
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
  const workflow = parse(text) as { on?: { schedule?: { cron?: string }[] }; jobs?: Record<string, { if?: string; steps?: { name?: string; run?: string }[] }> } | null;
  const listed = new Set((workflow?.on?.schedule ?? []).map((item) => item.cron));
  const entries: ScheduleEntry[] = [];
  for (const job of Object.values(workflow?.jobs ?? {})) {
    // `name: trigger <job>` (the curl step) or `run: npx curfew trigger <job>` (older exports).
    const name = (job.steps ?? []).map((step) => /\btrigger\s+([a-z0-9][a-z0-9-]*)/.exec(`${step.name ?? ''}\n${step.run ?? ''}`)?.[1]).find(Boolean);
    const cron = /github\.event\.schedule\s*==\s*'([^']*)'/.exec(job.if ?? '')?.[1];
    if (!name) continue;
    entries.push({ job: name, schedule: cron !== undefined && listed.has(cron) ? cron : `(not scheduled: ${cron ?? 'no schedule condition'})`, timezone: undefined });
  }
  return entries;
}
