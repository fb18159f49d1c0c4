import type { ExportJob, ExportSettings } from '../../src/deploy-files/index.js';

/** A literal registry covering the mapping cases: UTC, zones with DST, a disabled job, day-of-month OR day-of-week, seconds, a half-hour zone. */
export const JOBS: readonly ExportJob[] = [
  { name: 'check-inactive-users', schedule: '* * * * *', timezone: 'UTC', enabled: true },
  { name: 'flush-expired-tokens', schedule: '0 0 * * *', timezone: 'UTC', enabled: true },
  { name: 'clear-expired-sessions', schedule: '@hourly', timezone: 'UTC', enabled: true },
  { name: 'logout-all-users', schedule: '0 2 * * *', timezone: 'Europe/Berlin', enabled: false },
  { name: 'berlin-report', schedule: '30 2 * * 1-5', timezone: 'Europe/Berlin', enabled: true },
  { name: 'ny-billing', schedule: '0 9 1,15 * MON', timezone: 'America/New_York', enabled: true },
  { name: 'quarter-minute', schedule: '*/15 */10 * * * *', timezone: 'UTC', enabled: true },
  { name: 'kolkata-digest', schedule: '0 6 * * *', timezone: 'Asia/Kolkata', enabled: true },
];

/** Mid-January: Berlin is UTC+1, New York UTC-5. */
export const AT = new Date('2026-01-15T12:00:00Z');

export const SETTINGS: ExportSettings = {
  url: 'https://auth.example.com',
  secretEnv: 'CRON_SECRET',
  cli: '/usr/bin/node /opt/curfew/bin/curfew.js',
  workdir: '/opt/curfew',
  image: 'ghcr.io/example/curfew:1.0',
  selection: undefined,
  at: AT,
};

export const ENABLED = JOBS.filter((job) => job.enabled);
