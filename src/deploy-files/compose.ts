import { Document, parse } from 'yaml';
import { headerLines, leftOutLines, type PlannedEntries } from './entries.js';
import type { ExportSettings, ScheduleEntry } from './types.js';

/** The sidecar's service name, the same as in the shipped docker-compose.yaml, so merging the export replaces it. */
export const SIDECAR_SERVICE = 'cron';

/** The sidecar's loop: sleep to the next minute boundary, then `curfew trigger --due`. */
export function sidecarLoop(url: string, secretEnv: string): string {
  return `while :; do sleep $$((60 - $$(date +%s) % 60)); node bin/curfew.js trigger --due --url ${url} --secret-env ${secretEnv} --min-interval 50s || true; done`;
}

/**
 * A compose service for a cron sidecar. Compose has no scheduler, so the
 * sidecar calls `/cron/run` every minute and the server decides what is due
 * from the registry (with catch-up). The registry's schedules are recorded under
 * `x-curfew-jobs` so `--check` notices when they change.
 */
export function renderCompose(plan: PlannedEntries, disabled: readonly string[], settings: ExportSettings): string {
  const document = new Document({
    'x-curfew-jobs': plan.entries.map((entry) => ({ job: entry.job, schedule: entry.schedule, timezone: entry.timezone ?? 'UTC' })),
    services: {
      [SIDECAR_SERVICE]: {
        image: settings.image,
        restart: 'unless-stopped',
        depends_on: { curfew: { condition: 'service_healthy' } },
        environment: { [settings.secretEnv]: `\${${settings.secretEnv}:?set ${settings.secretEnv} in .env}` },
        entrypoint: ['/bin/sh', '-c'],
        command: [sidecarLoop(settings.url, settings.secretEnv)],
      },
    },
  });
  document.commentBefore = [
    ...headerLines('compose', settings.selection),
    '# Merge into docker-compose.yaml next to the curfew service (or: docker compose -f docker-compose.yaml -f <this file> up -d).',
    '# Set SCHEDULER=off on curfew when this sidecar fires the jobs.',
    ...leftOutLines(disabled, plan.skipped),
  ]
    .map((line) => line.replace(/^# ?/, ' '))
    .join('\n');
  return document.toString({ lineWidth: 0 });
}

/** The schedules recorded under `x-curfew-jobs`. */
export function extractCompose(text: string): ScheduleEntry[] {
  const compose = parse(text) as { 'x-curfew-jobs'?: { job?: string; schedule?: string; timezone?: string }[] } | null;
  return (compose?.['x-curfew-jobs'] ?? []).flatMap((item) => (item.job ? [{ job: item.job, schedule: item.schedule ?? '', timezone: item.timezone ?? 'UTC' }] : []));
}
