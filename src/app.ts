// First: keeps Node's nextTick objects on V8's fast path (src/runtime/tick-shape.ts).
import './runtime/tick-shape.js';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { AccountsService } from './accounts/accounts-service.js';
import { PasswordHasher } from './accounts/passwords.js';
import { PasswordPolicy } from './accounts/password-policy.js';
import { createAccountLifecycle } from './accounts/lifecycle/index.js';
import { createAuth } from './auth/index.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, type Config } from './config/index.js';
import { secretKeyMismatchHint } from './config/secret-key-hint.js';
import { openStorage } from './db/connect.js';
import type { Storage } from './db/database.js';
import { explainDatabaseError } from './db/connection-error.js';
import { migrateToLatest } from './db/migrate.js';
import { UsersRepository } from './db/repositories/users.js';
import { buildHttpServer } from './http/server.js';
import { ConnectionDrain } from './http/shutdown.js';
import { buildAlertMonitor } from './alerts/build.js';
import { createJobs } from './jobs/index.js';
import { openPresenceBus } from './db/pg-bus.js';
import { createPresence } from './presence/index.js';
import type { JobDefinition } from './jobs/types.js';
import { listenError } from './http/listen-error.js';
import { createLogger, type Logger } from './logger.js';
import { createMailService } from './mail/index.js';
import { createMaintenance } from './maintenance/index.js';
import { Metrics } from './metrics/metrics.js';
import { watchSequences } from './metrics/sequences.js';
import { createSequences } from './sequences/index.js';
import type { BackgroundTask } from './background-task.js';
import type { Services } from './services.js';
import { SigningKeyDecryptError } from './tokens/key-encryption.js';
import { buildTriggerGuard } from './triggers/build.js';
import { createBusParts } from './bus/index.js';
import { ServiceClients } from './clients/service-clients.js';
import { ServiceClientsRepository } from './db/repositories/service-clients.js';
import { jobSlots } from './triggers/job-slots.js';

export interface AppOptions {
  /**
   * Defaults to the system clock; tests pass a TestClock, which then also
   * stands for the database's clock in job leases (otherwise read in SQL).
   */
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
  /**
   * Stops the background loops, then stops listening and drains HTTP for at
   * most SHUTDOWN_GRACE (then closes what is left), closes the database. Idempotent.
   */
  stop(): Promise<void>;
}

/** Whether `promise` (one that never rejects) settled within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The composition root: builds the whole application from a validated config. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger({ level: config.logLevel, destination: options.logDestination });
  let storage: Storage;
  try {
    storage = openStorage(config.database);
  } catch (error) {
    throw explainDatabaseError(error, config.database) ?? error;
  }
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
  const busParts = createBusParts({ config, clock, logger, storage });
  const auth = createAuth({ config, clock, logger, storage, users: new UsersRepository(storage), passwords, events: busParts.recorder });
  const maintenance = createMaintenance({ config, clock, storage, auth, events: busParts.recorder });
  const policy = new PasswordPolicy(config.accounts.passwordMinStrength);
  const lifecycle = createAccountLifecycle({ config, clock, logger, storage, passwords, policy, mail, sessions: maintenance.sessions, logins: auth.limiter });
  const sequences = createSequences({ config, clock, logger, storage, mail });
  // A deleted account's address stays suppressed (the tombstone's promise to the unsubscribe list).
  lifecycle.hooks.onAccountDeleted((event) => sequences.service.accountsDeleted(event.storage, event.userIds, event.reason));
  const jobs = createJobs({ config, clock, ...(options.clock === undefined ? {} : { databaseClock: options.clock }), logger, storage, bodies: { 'check-inactive-users': presence.sweep, ...maintenance.bodies, 'purge-unactivated-accounts': lifecycle.purgeJob, 'sequence-tick': sequences.tick }, ...(options.extraJobs ? { extraJobs: options.extraJobs } : {}) });
  const alerts = buildAlertMonitor({
    config, clock, logger, storage, jobs: jobs.service, mail,
    unknownSends: async () => (await sequences.service.sendCounts()).unknown + (await mail.unknown.count()),
  });
  const metrics = new Metrics();
  const bus = busParts.connect(auth.service, metrics.registry, () => auth.view.refreshNow());
  // curfew.events.user.deactivated, recorded in the outbox right after the deactivation commits.
  lifecycle.hooks.onUserDeactivated((userId) => bus.bus.publishUserDeactivated(userId));
  const services: Services = {
    storage,
    auth,
    users: new UsersRepository(storage),
    passwords,
    mail,
    accounts: new AccountsService({ config, clock, logger, storage, passwords, mail, policy, onActivated: (tx, userId) => sequences.service.enrollOnActivation(tx, userId) }),
    lifecycle,
    triggers: buildTriggerGuard(config, clock, storage, jobSlots(jobs.service.registry)),
    metrics,
    jobs: jobs.service,
    alerts,
    presence: presence.service,
    maintenance,
    sequences: sequences.service,
    bus: bus.bus,
    clients: new ServiceClients(new ServiceClientsRepository(storage), auth.limiter, clock),
  };
  const background: BackgroundTask[] = [];
  if (config.scheduler.enabled) background.push(jobs.scheduler);
  services.metrics.watch(jobs.service);
  watchSequences(services.metrics.registry, { sequences: sequences.service, outbox: mail.unknown, now: () => clock.now() });
  services.metrics.countPasswordChecks(() => passwords.checks);
  background.push(alerts);
  background.push(services.auth.refresher);
  background.push(mail.sender);
  background.push(presence.service);
  background.push(...bus.tasks);
  const drain = new ConnectionDrain();
  const http = await buildHttpServer({ config, clock, logger, services }, drain);

  let url: string | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let backgroundStarted = false;

  async function doStart(startOptions: StartOptions): Promise<void> {
    const report = await migrateToLatest(storage, config.database.kind === 'postgres' ? config.database.schema : undefined).catch((error: unknown) => {
      throw explainDatabaseError(error, config.database) ?? error;
    });
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'database migrated');
    await services.auth.init().catch((error: unknown) => {
      // A changed SECRET_KEY: say which keys and how to re-encrypt, not a stack trace.
      if (error instanceof SigningKeyDecryptError) throw new ConfigError('SECRET_KEY', secretKeyMismatchHint(config, error.kid));
      throw error;
    });
    // Listen before any background loop starts: a port in use stops start-up with nothing left running.
    if (startOptions.listen ?? true) {
      await http.listen({ host: config.host, port: config.port }).catch((error: unknown) => {
        throw listenError(error, config) ?? error;
      });
      const address = http.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host}:${address.port}`;
    } else {
      await http.ready();
    }
    if (startOptions.background ?? true) {
      for (const task of background) task.start();
      backgroundStarted = true;
    }
  }

  async function doStop(): Promise<void> {
    if (starting) await starting.catch(() => undefined);
    // Issue 16 #2: the scheduler and every loop stop taking new work first (each
    // stop() does so before its first await); then HTTP drains for at most
    // SHUTDOWN_GRACE, new requests getting 503, and whatever is left is closed.
    const loops = Promise.all(
      (backgroundStarted ? background : []).map((task) =>
        task.stop().catch((error: unknown) => logger.error({ err: error, task: task.name }, 'shutdown: background task failed to stop')),
      ),
    );
    const graceMs = config.http.shutdownGraceMs;
    const started = Date.now();
    const forced = await drain.drain(() => http.close(), graceMs);
    if (forced > 0) logger.warn({ connections: forced }, 'shutdown: closed connections still open after SHUTDOWN_GRACE');
    const left = Math.max(0, graceMs - (Date.now() - started));
    if ((await settlesWithin(loops, left)) === false) logger.warn('shutdown: background work still running after SHUTDOWN_GRACE; closing anyway');
    // Resend/reset work deferred past its answer writes to the database: finish it first.
    await lifecycle.drain();
    await mail.close();
    await sequences.close();
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
