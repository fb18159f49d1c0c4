import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import { JobAlertsRepository } from '../db/repositories/job-alerts.js';
import type { JobsService } from '../jobs/types.js';
import type { Logger } from '../logger.js';
import { mailSink, type AlertMailer } from './mail.js';
import { AlertMonitor } from './monitor.js';
import { DurationHistory } from './slow.js';
import type { AlertSink } from './types.js';
import { webhookSink } from './webhook.js';

export interface AlertsOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly jobs: JobsService;
  readonly mail: AlertMailer;
  /** Deliveries whose outcome is unknown (an alert episode while above 0); default none. */
  readonly unknownSends?: () => Promise<number>;
}

/**
 * The alert monitor for ALERT_WEBHOOK_URL and/or ALERT_EMAIL, subscribed to
 * the jobs service's finished runs. With neither set it does nothing; add it
 * to the app's background list either way.
 */
export function buildAlertMonitor(options: AlertsOptions): AlertMonitor {
  const { config } = options;
  const sinks: AlertSink[] = [];
  if (config.alerts.webhookUrl !== undefined) sinks.push(webhookSink(config.alerts.webhookUrl));
  if (config.alerts.email !== undefined) sinks.push(mailSink(options.mail, config.alerts.email));
  const monitor = new AlertMonitor({
    clock: options.clock,
    logger: options.logger.child({ component: 'alerts' }),
    status: () => options.jobs.status(),
    store: new JobAlertsRepository(options.storage),
    sinks,
    instanceId: config.scheduler.instanceId,
    failureThreshold: config.alerts.failureThreshold,
    history: new DurationHistory(),
    ...(options.unknownSends ? { unknownSends: options.unknownSends } : {}),
  });
  options.jobs.onRunFinished((event) => monitor.onRunFinished(event));
  return monitor;
}
