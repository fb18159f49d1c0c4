import type { Auth } from '../auth/index.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import type { EventRecorder } from '../db/repositories/bus-outbox.js';
import { MaintenanceRepository } from '../db/repositories/maintenance.js';
import { SessionsRepository } from '../db/repositories/sessions.js';
import type { JobBody } from '../jobs/types.js';
import { MaintenanceJobs, type LogoutExclusions } from './jobs.js';
import { SessionControl } from './session-control.js';

export { MaintenanceJobs, type LogoutExclusions, type MaintenanceOptions } from './jobs.js';
export { SessionControl, type LiveSession, type TableReport } from './session-control.js';

/** Session control and the maintenance job bodies, built once per process. */
export interface Maintenance {
  readonly jobs: MaintenanceJobs;
  readonly sessions: SessionControl;
  /** Bodies for createJobs({ bodies }). */
  readonly bodies: {
    readonly 'flush-expired-tokens': JobBody;
    readonly 'clear-expired-sessions': JobBody;
    readonly 'logout-all-users': JobBody;
  };
  /**
   * Runs `fn` with extra logout-all-users exclusions in force (the CLI's
   * --exclude-role/--exclude-user), so the run still goes through the runner,
   * its lease and the ledger.
   */
  withLogoutExclusions<T>(extra: LogoutExclusions, fn: () => Promise<T>): Promise<T>;
}

/** Builds the maintenance area from the config (called by createApp). */
export function createMaintenance(deps: { config: Config; clock: Clock; storage: Storage; auth: Auth; events?: EventRecorder }): Maintenance {
  const { config, clock, storage, auth } = deps;
  const repo = new MaintenanceRepository(storage, deps.events);
  const jobs = new MaintenanceJobs(repo, clock, {
    batchSize: config.maintenance.batchSize,
    pauseMs: config.maintenance.batchPauseMs,
    graceMs: config.maintenance.graceMs,
    sessionAbsoluteMs: config.auth.sessionAbsoluteSeconds * 1000,
    excludeRoles: config.maintenance.logoutExcludeRoles,
    excludeUsers: config.maintenance.logoutExcludeUsers,
  });
  let extra: LogoutExclusions = { roles: [], emails: [] };
  return {
    jobs,
    sessions: new SessionControl(new SessionsRepository(storage), auth.sessions, auth.view, repo, clock),
    bodies: {
      'flush-expired-tokens': (ctx) => jobs.flushExpiredTokens(ctx),
      'clear-expired-sessions': (ctx) => jobs.clearExpiredSessions(ctx),
      'logout-all-users': (ctx) => jobs.logoutAllUsers(ctx, extra),
    },
    async withLogoutExclusions(exclusions, fn) {
      extra = exclusions;
      try {
        return await fn();
      } finally {
        extra = { roles: [], emails: [] };
      }
    },
  };
}
