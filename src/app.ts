import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { AccountsService } from './accounts/accounts-service.js';
import { PasswordHasher } from './accounts/passwords.js';
import { createAuth } from './auth/index.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/index.js';
import { openStorage } from './db/connect.js';
import type { Storage } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { UsersRepository } from './db/repositories/users.js';
import { buildHttpServer } from './http/server.js';
import { buildAlertMonitor } from './alerts/build.js';
import { createJobs } from './jobs/index.js';
import { openPresenceBus } from './db/pg-bus.js';
import { createPresence } from './presence/index.js';
import type { JobDefinition } from './jobs/types.js';
import { createLogger, type Logger } from './logger.js';
import { createMailService } from './mail/index.js';
import { createMaintenance } from './maintenance/index.js';
import { Metrics } from './metrics/metrics.js';
import type { BackgroundTask, Services } from './services.js';
import { buildTriggerGuard } from './triggers/build.js';
import { jobSlots } from './triggers/job-slots.js';

export interface AppOptions {
  /** Defaults to the system clock; tests pass a TestClock. */
  readonly clock?: Clock;
  /** Where log lines go (default stdout); tests capture them. */
  readonly logDestination?: DestinationStream;
  /** Jobs registered beside the built-ins (benchmarks and embedders); default none. */
  readonly extraJobs?: readonly JobDefinition[];
}

export interface StartOptions {
  /** Listen for HTTP (default true). The CLI's one-shot commands pass false. */
  readonly listen?: boolean;
  /** Run background loops: mail sender, in-process scheduler (default true). */
  readonly background?: boolean;
}

export interface App {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly services: Services;
  readonly http: FastifyInstance;
  /** Base URL once listening, e.g. http://127.0.0.1:8000. */
  readonly url: string | undefined;
  /** Migrates, starts background loops, listens. Idempotent. */
  start(options?: StartOptions): Promise<void>;
  /** Stops listening, drains background work, closes the database. Idempotent. */
  stop(): Promise<void>;
}

/** The composition root: builds the whole application from a validated config. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger({ level: config.logLevel, destination: options.logDestination });
  const storage = openStorage(config.database);
  try {
    return await assemble(config, options, clock, logger, storage);
  } catch (error) {
    // A ConfigError found while wiring (a bad JOB_* override) must not leave the database open.
    await storage.close().catch(() => undefined);
    throw error;
  }
}

async function assemble(config: Config, options: AppOptions, clock: Clock, logger: Logger, storage: Storage): Promise<App> {
  const passwords = new PasswordHasher(config.auth.argon2);
  const mail = createMailService({ config, clock, logger, storage });
  const presence = createPresence({ config, clock, logger, storage, bus: openPresenceBus(config.database, storage, logger) });
  const auth = createAuth({ config, clock, logger, storage, users: new UsersRepository(storage), passwords });
  const maintenance = createMaintenance({ config, clock, storage, auth });
  const jobs = createJobs({ config, clock, logger, storage, bodies: { 'check-inactive-users': presence.sweep, ...maintenance.bodies }, ...(options.extraJobs ? { extraJobs: options.extraJobs } : {}) });
  const alerts = buildAlertMonitor({ config, clock, logger, storage, jobs: jobs.service, mail });
  const services: Services = {
    storage,
    auth,
    users: new UsersRepository(storage),
    passwords,
    mail,
    accounts: new AccountsService({ config, clock, logger, storage, passwords, mail }),
    triggers: buildTriggerGuard(config, clock, storage, jobSlots(jobs.service.registry)),
    metrics: new Metrics(),
    jobs: jobs.service,
    alerts,
    presence: presence.service,
    maintenance,
  };
  const background: BackgroundTask[] = [];
  if (config.scheduler.enabled) background.push(jobs.scheduler);
  services.metrics.watch(jobs.service);
  services.metrics.countPasswordChecks(() => passwords.checks);
  background.push(alerts);
  background.push(services.auth.refresher);
  background.push(mail.sender);
  background.push(presence.service);
  const http = await buildHttpServer({ config, clock, logger, services });

  let url: string | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let backgroundStarted = false;

  async function doStart(startOptions: StartOptions): Promise<void> {
    const report = await migrateToLatest(storage, config.database.kind === 'postgres' ? config.database.schema : undefined);
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'database migrated');
    await services.auth.init();
    if (startOptions.background ?? true) {
      for (const task of background) task.start();
      backgroundStarted = true;
    }
    if (startOptions.listen ?? true) {
      await http.listen({ host: config.host, port: config.port });
      const address = http.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host}:${address.port}`;
    } else {
      await http.ready();
    }
  }

  async function doStop(): Promise<void> {
    if (starting) await starting.catch(() => undefined);
    await http.close();
    if (backgroundStarted) await Promise.all(background.map((task) => task.stop()));
    await mail.close();
    await storage.close();
  }

  return {
    config,
    clock,
    logger,
    services,
    http,
    get url() {
      return url;
    },
    start(startOptions = {}) {
      starting ??= doStart(startOptions);
      return starting;
    },
    stop() {
      stopping ??= doStop();
      return stopping;
    },
  };
}
