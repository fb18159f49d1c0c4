import { renderCompose, extractCompose } from './compose.js';
import { renderCrontab, extractCrontab } from './crontab.js';
import { planEntries, type PlannedEntries } from './entries.js';
import { extractGithubActions, renderGithubActions } from './github-actions.js';
import { extractKubernetes, renderKubernetes } from './kubernetes.js';
import { extractSystemd, renderSystemd } from './systemd.js';
import { EXPORT_FORMATS, type ExportFormat, type ExportJob, type ExportSettings, type ScheduleEntry } from './types.js';

export { EXPORT_FORMATS, type ExportFormat, type ExportJob, type ExportSettings } from './types.js';

type Renderer = (plan: PlannedEntries, disabled: readonly string[], settings: ExportSettings) => string;

const RENDERERS: Readonly<Record<ExportFormat, Renderer>> = {
  'github-actions': renderGithubActions,
  crontab: renderCrontab,
  systemd: renderSystemd,
  kubernetes: renderKubernetes,
  compose: renderCompose,
};

const EXTRACTORS: Readonly<Record<ExportFormat, (text: string) => ScheduleEntry[]>> = {
  'github-actions': extractGithubActions,
  crontab: extractCrontab,
  systemd: extractSystemd,
  kubernetes: extractKubernetes,
  compose: extractCompose,
};

/** Thrown for a `--job` name the registry does not have. */
export class UnknownJobError extends Error {
  override readonly name = 'UnknownJobError';
}

/** The jobs an export covers: the `selection` (which must exist), else every enabled job. */
export function selectJobs(jobs: readonly ExportJob[], selection: readonly string[] | undefined): { selected: ExportJob[]; disabled: string[] } {
  if (selection === undefined) {
    return { selected: jobs.filter((job) => job.enabled), disabled: jobs.filter((job) => !job.enabled).map((job) => job.name) };
  }
  const unknown = selection.filter((name) => !jobs.some((job) => job.name === name));
  if (unknown.length > 0) throw new UnknownJobError(`unknown job ${unknown.join(', ')}; known: ${jobs.map((job) => job.name).join(', ')}`);
  return { selected: jobs.filter((job) => selection.includes(job.name)), disabled: [] };
}

/** Renders `format` for the registry's jobs. Pure: same jobs, settings and `settings.at` give the same text. */
export function renderExport(format: ExportFormat, jobs: readonly ExportJob[], settings: ExportSettings): string {
  const { selected, disabled } = selectJobs(jobs, settings.selection);
  return RENDERERS[format](planEntries(format, selected, settings.at), disabled, settings);
}

/** The format named in a file's `# curfew-export:` line, else guessed from its content. */
export function detectFormat(text: string): { format: ExportFormat; selection: readonly string[] | undefined } | undefined {
  const marker = /^# curfew-export: format=(\S+) jobs=(\S+)$/m.exec(text);
  const named = EXPORT_FORMATS.find((format) => format === marker?.[1]);
  if (named) return { format: named, selection: marker?.[2] === '*' ? undefined : marker?.[2]?.split(',') };
  // Without the marker (e.g. one .timer file) the check covers the jobs found.
  if (/^OnCalendar\s*=/m.test(text)) return { format: 'systemd', selection: [] };
  if (/^\s*kind:\s*CronJob\s*$/m.test(text)) return { format: 'kubernetes', selection: [] };
  if (/^x-curfew-jobs:/m.test(text)) return { format: 'compose', selection: [] };
  if (/^on:/m.test(text) && /github\.event/.test(text)) return { format: 'github-actions', selection: [] };
  if (/\btrigger\s+[a-z0-9]/.test(text)) return { format: 'crontab', selection: [] };
  return undefined;
}

export interface DriftReport {
  readonly format: ExportFormat;
  /** Human lines, one per difference; empty means in sync. */
  readonly problems: readonly string[];
}

function describe(entry: ScheduleEntry): string {
  return entry.timezone === undefined ? `"${entry.schedule}"` : `"${entry.schedule}" (${entry.timezone})`;
}

/**
 * Compares an exported file with what exporting the registry now would
 * write: missing jobs, jobs no longer enabled or known, changed schedules or
 * zones (for GitHub also a changed UTC offset after DST). An empty
 * selection (file without a marker) checks only the jobs the file contains.
 */
export function checkDrift(text: string, jobs: readonly ExportJob[], at: Date): DriftReport | undefined {
  const detected = detectFormat(text);
  if (!detected) return undefined;
  const { format } = detected;
  const found = EXTRACTORS[format](text);
  const foundNames = new Set(found.map((entry) => entry.job));
  const problems: string[] = [];
  const selection = detected.selection?.length === 0 ? [...foundNames].filter((name) => jobs.some((job) => job.name === name)) : detected.selection;
  const expectedJobs = selection === undefined ? jobs.filter((job) => job.enabled) : jobs.filter((job) => selection.includes(job.name));
  const expected = planEntries(format, expectedJobs, at).entries;
  for (const want of expected) {
    const have = found.find((entry) => entry.job === want.job);
    if (!have) problems.push(`${want.job}: missing from the file (registry: ${describe(want)})`);
    else if (have.schedule !== want.schedule || have.timezone !== want.timezone) problems.push(`${want.job}: file has ${describe(have)}, registry wants ${describe(want)}`);
  }
  for (const have of found) {
    const job = jobs.find((candidate) => candidate.name === have.job);
    if (!job) problems.push(`${have.job}: in the file but not a registered job`);
    else if (!expected.some((entry) => entry.job === have.job)) problems.push(`${have.job}: in the file but disabled in the registry`);
  }
  return { format, problems };
}
