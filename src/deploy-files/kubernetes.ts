import { Document, parseAllDocuments } from 'yaml';
import { headerLines, leftOutLines, type PlannedEntries } from './entries.js';
import type { ExportSettings, ScheduleEntry } from './types.js';

const JOB_LABEL = 'curfew/job';

/**
 * One `batch/v1` CronJob per job (`timeZone` set, `concurrencyPolicy: Forbid`)
 * running `curfew trigger <job>` in the curfew image against the in-cluster
 * service. The secret comes from the Secret `curfew` (key `cron-secret`).
 */
export function renderKubernetes(plan: PlannedEntries, disabled: readonly string[], settings: ExportSettings): string {
  const documents = plan.entries.map((entry, index) => {
    const document = new Document({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: `curfew-${entry.job}`, labels: { 'app.kubernetes.io/name': 'curfew', [JOB_LABEL]: entry.job } },
      spec: {
        schedule: entry.schedule,
        timeZone: entry.timezone ?? 'UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 300,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: 600,
            template: {
              metadata: { labels: { 'app.kubernetes.io/name': 'curfew-trigger', [JOB_LABEL]: entry.job } },
              spec: {
                restartPolicy: 'Never',
                // The image's `node` user (uid/gid 1000, see the Dockerfile): runAsNonRoot alone cannot verify a named USER.
                securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
                containers: [
                  {
                    name: 'trigger',
                    image: settings.image,
                    args: ['trigger', entry.job, '--url', settings.url, '--secret-env', settings.secretEnv],
                    env: [{ name: settings.secretEnv, valueFrom: { secretKeyRef: { name: 'curfew', key: 'cron-secret' } } }],
                    resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '192Mi' } },
                  },
                ],
              },
            },
          },
        },
      },
    });
    const comments = [
      ...(index === 0 ? [...headerLines('kubernetes', settings.selection), ...leftOutLines(disabled, plan.skipped)] : []),
      ...(entry.note ? [`# ${entry.job}: ${entry.note}`] : []),
    ];
    if (comments.length > 0) document.commentBefore = comments.map((line) => line.replace(/^# ?/, ' ')).join('\n');
    return document.toString({ lineWidth: 0 });
  });
  if (documents.length === 0) return `${[...headerLines('kubernetes', settings.selection), ...leftOutLines(disabled, plan.skipped)].join('\n')}\n`;
  return documents.join('---\n');
}

/** Every CronJob that runs `curfew trigger <job>`: its schedule and timeZone. */
export function extractKubernetes(text: string): ScheduleEntry[] {
  const entries: ScheduleEntry[] = [];
  for (const document of parseAllDocuments(text)) {
    const manifest = document.toJS() as { kind?: string; spec?: { schedule?: string; timeZone?: string; jobTemplate?: { spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } } } } } | null;
    if (manifest?.kind !== 'CronJob') continue;
    const args = manifest.spec?.jobTemplate?.spec?.template?.spec?.containers?.[0]?.args ?? [];
    const job = args[0] === 'trigger' ? args[1] : undefined;
    if (job === undefined || job.startsWith('-')) continue;
    entries.push({ job, schedule: manifest.spec?.schedule ?? '', timezone: manifest.spec?.timeZone ?? 'UTC' });
  }
  return entries;
}
