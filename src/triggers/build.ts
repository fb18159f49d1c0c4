import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import { TriggerNoncesRepository } from '../db/repositories/trigger-nonces.js';
import { TriggerThrottleRepository } from '../db/repositories/trigger-throttle.js';
import { TriggerGuard } from './guard.js';
import { parseIpAllowlist } from './ip-allowlist.js';
import type { SlotSource } from './slot.js';

/**
 * The trigger guard for this config, counting in `storage`; `slots` tells it
 * the slot a per-job route would run (X-Curfew-Slot checks). Throws
 * ConfigError for a bad allow-list.
 */
export function buildTriggerGuard(config: Config, clock: Clock, storage: Storage, slots?: SlotSource): TriggerGuard {
  return new TriggerGuard({
    secrets: config.cron.secrets,
    allowQueryToken: config.cron.allowQueryToken,
    allowlist: parseIpAllowlist(config.cron.ipAllowlist),
    throttle: config.cron.throttle,
    clock,
    throttleStore: new TriggerThrottleRepository(storage),
    nonceStore: new TriggerNoncesRepository(storage),
    ...(slots === undefined ? {} : { slots }),
  });
}
