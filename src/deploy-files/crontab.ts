import { headerLines, leftOutLines, shellQuote, type PlannedEntries } from './entries.js';
import type { ExportSettings, ScheduleEntry } from './types.js';

/**
 * A crontab block: one line per job, each preceded by `CRON_TZ=<zone>`
 * (cronie, Vixie-derived crons on RHEL/Fedora/Arch/Alpine). The secret stays in
 * the `.env` of the working directory, which the curfew CLI reads.
 */
export function renderCrontab(plan: PlannedEntries, disabled: readonly string[], settings: ExportSettings): string {
  const lines = [
    ...headerLines('crontab', settings.selection),
    `# Install: crontab -l | cat - <this file> | crontab -   (the secret is read from ${settings.workdir}/.env: ${settings.secretEnv} or CRON_SECRETS)`,
    '# CRON_TZ needs cronie; Debian/Ubuntu cron ignores it and uses the host zone (keep the host on UTC there, or use the systemd export).',
    'SHELL=/bin/sh',
    ...leftOutLines(disabled, plan.skipped),
  ];
  for (const entry of plan.entries) {
    if (entry.note) lines.push(`# ${entry.job}: ${entry.note}`);
    lines.push(`CRON_TZ=${entry.timezone ?? 'UTC'}`, `${entry.schedule} ${crontabCommand(entry, settings)}`);
  }
  return `${lines.join('\n')}\n`;
}

function crontabCommand(entry: ScheduleEntry, settings: ExportSettings): string {
  const secretEnv = settings.secretEnv === 'CRON_SECRET' ? '' : ` --secret-env ${settings.secretEnv}`;
  return `cd ${shellQuote(settings.workdir)} && ${settings.cli} trigger ${entry.job} --url ${shellQuote(settings.url)}${secretEnv} >> "$HOME/curfew-trigger.log" 2>&1`;
}

/** Reads the job lines of a crontab block back: `CRON_TZ=` in force, the 5 fields, the job after `trigger`. */
export function extractCrontab(text: string): ScheduleEntry[] {
  const entries: ScheduleEntry[] = [];
  let zone: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const assignment = /^CRON_TZ\s*=\s*(\S+)$/.exec(line);
    if (assignment) {
      zone = assignment[1];
      continue;
    }
    const job = /^((?:\S+\s+){5})(.*\btrigger\s+([a-z0-9][a-z0-9-]*)\b.*)$/.exec(line);
    if (job?.[1] && job[3]) entries.push({ job: job[3], schedule: job[1].trim().split(/\s+/).join(' '), timezone: zone ?? 'UTC' });
  }
  return entries;
}
