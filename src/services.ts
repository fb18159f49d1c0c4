import type { AccountsService } from './accounts/accounts-service.js';
import type { AccountLifecycle } from './accounts/lifecycle/index.js';
import type { PasswordHasher } from './accounts/passwords.js';
import type { Auth } from './auth/index.js';
import type { Storage } from './db/database.js';
import type { UsersRepository } from './db/repositories/users.js';
import type { AlertMonitor } from './alerts/monitor.js';
import type { Bus } from './bus/index.js';
import type { ServiceClients } from './clients/service-clients.js';
import type { JobsService } from './jobs/types.js';
import type { MailService } from './mail/index.js';
import type { Maintenance } from './maintenance/index.js';
import type { Metrics } from './metrics/metrics.js';
import type { PresenceService } from './presence/presence-service.js';
import type { SequencesService } from './sequences/service.js';
import type { TriggerGuard } from './triggers/guard.js';

/**
 * The application services, built once per process by createApp(). Routes,
 * CLI commands and the scheduler reach the domain only through these.
 */
export interface Services {
  readonly storage: Storage;
  readonly users: UsersRepository;
  readonly passwords: PasswordHasher;
  /** Login, sessions, access/refresh tokens, signing keys, CSRF, the revocation view. */
  readonly auth: Auth;
  /** The mail outbox: enqueue (optionally in a transaction), wake, sendDueNow. */
  readonly mail: MailService;
  /** Registration, activation, operator-created accounts. */
  readonly accounts: AccountsService;
  /** Resend activation, password reset/change, e-mail change, account deletion, admin user management, hooks. */
  readonly lifecycle: AccountLifecycle;
  /** Checks trigger credentials, allow-list, replay and throttle. */
  readonly triggers: TriggerGuard;
  /** This app's Prometheus registry and metrics. */
  readonly metrics: Metrics;
  /** The scheduler: job registry, runner, run ledger, leases, status. */
  readonly jobs: JobsService;
  /** Late / failing / slow job alerts (webhook, mail); a no-op without ALERT_* settings. */
  readonly alerts: AlertMonitor;
  /** Who is online: sockets, offline grace, diffs over the bus, `last_seen_at`. */
  readonly presence: PresenceService;
  /** Session control (list/revoke), auth-health, and the maintenance job bodies. */
  readonly maintenance: Maintenance;
  /** Sequence mail: definitions, enrollments, the send ledger, unsubscribes, backlog. */
  readonly sequences: SequencesService;
  /** The message bus (BUS_URL): verify requests, revocation events through the outbox; `off` without it. */
  readonly bus: Bus;
  /** Introspection callers (HTTP Basic): create, list, revoke, authenticate. */
  readonly clients: ServiceClients;
}
