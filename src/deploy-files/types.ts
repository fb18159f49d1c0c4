import type { JobDefinition } from '../jobs/types.js';

/** What an export needs of a job: the registry's name, schedule, zone and switch. */
export type ExportJob = Pick<JobDefinition, 'name' | 'schedule' | 'timezone' | 'enabled'>;

export const EXPORT_FORMATS = ['github-actions', 'crontab', 'systemd', 'kubernetes', 'compose'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Settings shared by the generators (command-line options plus config). */
export interface ExportSettings {
  /** Base URL the trigger calls, e.g. https://auth.example.com. */
  readonly url: string;
  /** Name of the variable holding the secret (default CRON_SECRET); only ever referenced. */
  readonly secretEnv: string;
  /** How crontab and systemd invoke curfew, e.g. `node /opt/curfew/bin/curfew.js`. */
  readonly cli: string;
  /** Working directory for crontab/systemd (holds the `.env` with the secret). */
  readonly workdir: string;
  /** Container image for kubernetes and compose (default curfew:latest). */
  readonly image: string;
  /** Jobs picked with --job (recorded in the file so --check knows the selection). */
  readonly selection: readonly string[] | undefined;
  /** The instant used to convert non-UTC zones for GitHub Actions (now). */
  readonly at: Date;
}

/** One job's schedule as a generated file expresses it (the unit --check compares). */
export interface ScheduleEntry {
  readonly job: string;
  /** The schedule in the file's own terms (5-field cron, or OnCalendar lines joined by " | "). */
  readonly schedule: string;
  /** The zone the file states for it; undefined where the format has none (GitHub). */
  readonly timezone: string | undefined;
  /** Why the file's schedule differs from the registry's, if it does (UTC conversion, dropped seconds). */
  readonly note?: string | undefined;
}
