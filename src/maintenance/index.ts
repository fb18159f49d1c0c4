import type { Auth } from '../auth/index.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import type { EventRecorder } from '../db/repositories/bus-outbox.js';
import { MaintenanceRepository } from '../db/repositories/maintenance.js';
import { SessionsRepository } from '../db/repositories/sessions.js';
import type { JobBody, RunParams } from '../jobs/types.js';
import { MaintenanceJobs, type LogoutExclusions } from './jobs.js';
import { SessionControl } from '../sessions/session-control.js';

export { MaintenanceJobs, type LogoutExclusions, type MaintenanceOptions } from './jobs.js';

/** The maintenance job bodies and session control (src/sessions/session-control.ts), built once per process. */
export interface Maintenance {
  readonly jobs: MaintenanceJobs;
  readonly sessions: SessionControl;
  /** Bodies for createJobs({ bodies }). */
  readonly bodies: {
    readonly 'flush-expired-tokens': JobBody;
    readonly 'clear-expired-sessions': JobBody;
    readonly 'logout-all-users': JobBody;
  };
}

/** Builds the maintenance area from the config (called by createApp). */
export function createMaintenance(deps: { config: Config; clock: Clock; storage: Storage; auth: Auth; events?: EventRecorder }): Maintenance {
  const { config, clock, storage, auth } = deps;
  const repo = new MaintenanceRepository(storage, deps.events);
  const jobs = new MaintenanceJobs(repo, clock, {
    batchSize: config.maintenance.batchSize,
    pauseMs: config.maintenance.batchPauseMs,
    graceMs: config.maintenance.graceMs,
    sessionAbsoluteMs: config.auth.sessionAbsoluteMs,
    excludeRoles: config.maintenance.logoutExcludeRoles,
    excludeUsers: config.maintenance.logoutExcludeUsers,
    refreshRevocations: () => auth.view.refreshNow(),
  });
  return {
    jobs,
    sessions: new SessionControl(new SessionsRepository(storage), auth.sessions, auth.view, repo, clock),
    bodies: {
      'flush-expired-tokens': (ctx) => jobs.flushExpiredTokens(ctx),
      'clear-expired-sessions': (ctx) => jobs.clearExpiredSessions(ctx),
      // Per-run exclusions (the CLI's --exclude-role/--exclude-user) come on the run request.
      'logout-all-users': (ctx) => jobs.logoutAllUsers(ctx, logoutExclusions(ctx.params)),
    },
  };
}

/**
 * logout-all-users' run parameters: `excludeRoles` and `excludeUsers` (lists of
 * roles / e-mails added to JOB_LOGOUT_ALL_USERS_EXCLUDE_*). Anything else, or
 * a value that is not a list of strings, is refused: a typo must not log out
 * the people it meant to keep.
 */
export function logoutExclusions(params: RunParams): LogoutExclusions {
  const list = (key: string): readonly string[] => {
    const value = params[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw new TypeError(`logout-all-users: parameter ${key} must be a list of strings`);
    }
    return value;
  };
  const unknown = Object.keys(params).filter((key) => key !== 'excludeRoles' && key !== 'excludeUsers');
  if (unknown.length > 0) throw new TypeError(`logout-all-users: unknown parameter(s) ${unknown.join(', ')}; expected excludeRoles, excludeUsers`);
  return { roles: list('excludeRoles'), emails: list('excludeUsers') };
}
