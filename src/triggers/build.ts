import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import { TriggerSignaturesRepository } from '../db/repositories/trigger-signatures.js';
import { TriggerThrottleRepository } from '../db/repositories/trigger-throttle.js';
import { TriggerGuard } from './guard.js';
import { parseIpAllowlist } from './ip-allowlist.js';

/** The trigger guard for this config, counting in `storage`. Throws ConfigError for a bad allow-list. */
export function buildTriggerGuard(config: Config, clock: Clock, storage: Storage): TriggerGuard {
  return new TriggerGuard({
    secrets: config.cron.secrets,
    allowQueryToken: config.cron.allowQueryToken,
    allowlist: parseIpAllowlist(config.cron.ipAllowlist),
    throttleMax: config.cron.throttleMax,
    throttleWindowMs: config.cron.throttleWindowSeconds * 1000,
    clock,
    throttleStore: new TriggerThrottleRepository(storage),
    signatureStore: new TriggerSignaturesRepository(storage),
  });
}
