import { headerLines, leftOutLines, shellQuote, type PlannedEntries } from './entries.js';
import type { ExportSettings, ScheduleEntry } from './types.js';

const FILE_MARK = /^# ---- file: (\S+) ----$/;

/** Unit name stem for a job: `curfew-job-<job>` (.service and .timer). */
export function unitName(job: string): string {
  return `curfew-job-${job}`;
}

/**
 * A oneshot `.service` and a `.timer` per job, concatenated with
 * `# ---- file: <name> ----` separators (split them into /etc/systemd/system).
 * OnCalendar lines carry the job's zone; Persistent=true catches up a slot
 * missed while the machine was off. The secret comes from EnvironmentFile=.
 */
export function renderSystemd(plan: PlannedEntries, disabled: readonly string[], settings: ExportSettings): string {
  const out = [
    ...headerLines('systemd', settings.selection),
    `# Split into files: awk '/^# ---- file: /{f="/etc/systemd/system/"$4} f{print > f}' <this file>; then systemctl daemon-reload`,
    `# and systemctl enable --now ${plan.entries.map((entry) => `${unitName(entry.job)}.timer`).join(' ') || '<timers>'}`,
    ...leftOutLines(disabled, plan.skipped),
    '',
  ];
  for (const entry of plan.entries) {
    const name = unitName(entry.job);
    out.push(
      `# ---- file: ${name}.service ----`,
      '[Unit]',
      `Description=curfew: trigger ${entry.job}`,
      'Wants=network-online.target',
      'After=network-online.target',
      '',
      '[Service]',
      'Type=oneshot',
      `WorkingDirectory=${settings.workdir}`,
      `EnvironmentFile=${settings.workdir}/.env`,
      `ExecStart=${settings.cli} trigger ${entry.job} --url ${shellQuote(settings.url)} --secret-env ${settings.secretEnv}`,
      '# Run as the account that owns the installation (it must be able to read the .env):',
      '#User=curfew',
      'NoNewPrivileges=yes',
      '',
      `# ---- file: ${name}.timer ----`,
      '[Unit]',
      `Description=curfew schedule for ${entry.job}`,
      '',
      '[Timer]',
      ...entry.schedule.split(' | ').map((value) => `OnCalendar=${value}`),
      'Persistent=true',
      'AccuracySec=1s',
      `Unit=${name}.service`,
      '',
      '[Install]',
      'WantedBy=timers.target',
      '',
    );
  }
  return `${out.join('\n')}`;
}

/** The OnCalendar lines of every curfew timer, by the job its `Unit=` names (one .timer file alone works too). */
export function extractSystemd(text: string): ScheduleEntry[] {
  const timers = new Map<string, string[]>();
  let file: string | undefined;
  let calendars: string[] = [];
  let job: string | undefined;
  const flush = () => {
    if (job !== undefined && calendars.length > 0 && (file === undefined || file.endsWith('.timer'))) timers.set(job, calendars);
    calendars = [];
    job = undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const mark = FILE_MARK.exec(line);
    if (mark) {
      flush();
      file = mark[1];
      continue;
    }
    const calendar = /^OnCalendar\s*=\s*(.+)$/.exec(line);
    if (calendar?.[1]) calendars.push(calendar[1].trim());
    const unit = /^Unit\s*=\s*curfew-job-([a-z0-9-]+)\.service$/.exec(line);
    if (unit?.[1]) job = unit[1];
  }
  flush();
  return [...timers].map(([name, values]) => ({ job: name, schedule: values.join(' | '), timezone: undefined }));
}
