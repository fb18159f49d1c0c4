import { ConfigError, type JobOverride } from '../config/index.js';
import { AppError } from '../errors.js';
import { defaultLateAfter } from './lateness.js';
import { envName } from './overrides.js';
import { applyOverride } from './overrides.js';
import { parseSchedule, type ParsedSchedule } from './schedule.js';
import { describeSchedule } from './schedule-text.js';
import type { JobDefinition } from './types.js';

/** A job after configuration, with its schedule parsed once. */
export interface RegisteredJob {
  readonly definition: JobDefinition;
  readonly schedule: ParsedSchedule;
  /** Lateness threshold: JOB_<NAME>_LATE_AFTER, else max(CRON_LATE_AFTER, period + min(period, 1h)). */
  readonly lateAfterMs: number;
  /** The schedule in words (cronstrue). */
  readonly scheduleText: string;
}

export interface RegistryDefaults {
  /** CRON_LATE_AFTER: the floor of every job's default lateness threshold (default 10 minutes). */
  readonly lateAfterMs?: number;
}

/** Names reserved for the ledger's own rows. */
export const SCHEDULE_RUN_JOB = 'schedule-run';

/**
 * The named jobs of this process. Built once at createApp from job
 * definitions plus `config.jobs` overrides; throws ConfigError for a bad
 * override or an override naming no job.
 */
export class JobRegistry {
  private readonly byName = new Map<string, RegisteredJob>();

  constructor(definitions: readonly JobDefinition[], overrides: Readonly<Record<string, JobOverride>> = {}, defaults: RegistryDefaults = {}) {
    for (const base of definitions) {
      if (!/^[a-z][a-z0-9-]*$/.test(base.name) || base.name === SCHEDULE_RUN_JOB) throw new Error(`invalid job name "${base.name}"`);
      if (this.byName.has(base.name)) throw new Error(`job "${base.name}" is registered twice`);
      const definition = applyOverride(base, overrides[base.name]);
      const schedule = parseSchedule(definition.schedule, definition.timezone, definition.dst);
      this.byName.set(base.name, {
        definition,
        schedule,
        lateAfterMs: definition.lateAfterMs ?? defaultLateAfter(schedule, defaults.lateAfterMs),
        scheduleText: describeSchedule(definition.schedule),
      });
    }
    for (const [name, override] of Object.entries(overrides)) {
      if (!this.byName.has(name)) {
        const field = Object.keys(override)[0] ?? 'SCHEDULE';
        throw new ConfigError(envName(name, field), `there is no job "${name}"; known jobs: ${[...this.byName.keys()].join(', ')}`);
      }
    }
  }

  all(): readonly RegisteredJob[] {
    return [...this.byName.values()];
  }

  find(name: string): RegisteredJob | undefined {
    return this.byName.get(name);
  }

  /** The job, or AppError JOB_NOT_FOUND. */
  get(name: string): RegisteredJob {
    const job = this.byName.get(name);
    if (job === undefined) throw new AppError('JOB_NOT_FOUND', `There is no job named "${name}".`);
    return job;
  }
}
