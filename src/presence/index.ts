import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import { PresenceRepository } from '../db/repositories/presence.js';
import type { JobBody } from '../jobs/types.js';
import type { Logger } from '../logger.js';
import { PresenceService } from './presence-service.js';
import { checkInactiveUsers } from './sweep.js';
import type { PresenceBus } from './types.js';
import { visibilityRule } from './visibility.js';

export { PresenceService } from './presence-service.js';
export { InProcessBus } from './in-process-bus.js';
export { visibilityRule, type PresenceVisibility } from './visibility.js';
export type * from './types.js';

export interface CreatePresenceOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  /** In-process on SQLite, LISTEN/NOTIFY on PostgreSQL (see src/db/pg-bus.ts). */
  readonly bus: PresenceBus;
}

/** Builds the presence service (a background task) and the `check-inactive-users` job body. */
export function createPresence(options: CreatePresenceOptions): { service: PresenceService; sweep: JobBody } {
  const { config, clock, logger, storage, bus } = options;
  const repository = new PresenceRepository(storage);
  const settings = config.presence;
  const service = new PresenceService({
    repository,
    bus,
    clock,
    logger: logger.child({ component: 'presence' }),
    instanceId: config.scheduler.instanceId,
    offlineGraceMs: settings.offlineGraceMs,
    tickMs: settings.tickMs,
    heartbeatMs: settings.heartbeatMs,
  });
  service.setVisibility(visibilityRule(settings.visibility));
  const sweep = checkInactiveUsers({
    repository,
    bus,
    instanceId: config.scheduler.instanceId,
    inactivityMs: config.inactivityMs,
    instanceTimeoutMs: settings.instanceTimeoutMs,
    orphanAfterMs: Math.max(60_000, settings.offlineGraceMs * 2),
  });
  return { service, sweep };
}
