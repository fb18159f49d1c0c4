import type { BusConfig } from './bus.js';
import type { ThrottleTier } from './cron-throttle.js';
import type { TrustProxy } from './trust-proxy.js';

/*
 * The shape of curfew's configuration: what every setting means, its
 * variable and its default. \`loadConfig\` (index.ts) reads and checks it.
 */
export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string | undefined; readonly poolSize: number };

/**
 * Raw per-job overrides from `JOB_<NAME>_<FIELD>` (FIELD one of SCHEDULE,
 * ENABLED, TZ, OVERLAP, CATCH_UP, TIMEOUT, LEASE_TTL, RETRIES, DST, LATE_AFTER); the job
 * registry validates and applies them.
 */
export type JobOverride = Readonly<Record<string, string>>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** The externally visible origin, used in mail links and as the default CSRF origin. */
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly logLevel: string;
  /** Largest accepted request body in bytes (default 64 KiB); larger gets 413. */
  readonly bodyLimit: number;
  /** Signs CSRF tokens and encrypts signing keys at rest. */
  readonly secretKey: string;
  /** Where the secret key came from, for the start-up log. */
  readonly secretKeySource: 'env' | 'generated' | 'file' | 'test';
  /** TRUST_PROXY (default false): trusted proxy hops or CIDRs for X-Forwarded-For (src/config/trust-proxy.ts). */
  readonly trustProxy: TrustProxy;
  readonly allowedOrigins: readonly string[];
  readonly cookies: {
    readonly secure: boolean;
    readonly accessName: string;
    readonly refreshName: string;
    readonly csrfName: string;
  };
  readonly auth: {
    readonly issuer: string;
    readonly audience: string;
    /** ACCESS_TOKEN_TTL (seconds, default 300): access-token lifetime. */
    readonly accessTtlMs: number;
    /** REFRESH_TOKEN_TTL (seconds, default 7 days): refresh-token lifetime. */
    readonly refreshTtlMs: number;
    /** REFRESH_REUSE_GRACE (seconds, default 20): how long a rotated refresh token still yields its successor. */
    readonly refreshReuseGraceMs: number;
    /** SESSION_IDLE_TTL (seconds, default 7 days). */
    readonly sessionIdleMs: number;
    /** SESSION_ABSOLUTE_TTL (seconds, default 30 days). */
    readonly sessionAbsoluteMs: number;
    /** ACTIVATION_TTL (seconds, default 24 h): activation-link lifetime. */
    readonly activationTtlMs: number;
    readonly argon2: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number };
    /** Failed-login limits, counted in the database (src/auth/login-limiter.ts). */
    readonly loginThrottle: {
      /** Failures per account before back-off starts (default 5). */
      readonly accountFreeFailures: number;
      /** LOGIN_ACCOUNT_FIRST_LOCK (seconds, default 1): first per-account lock, doubled per further failure. */
      readonly accountFirstLockMs: number;
      /** LOGIN_ACCOUNT_MAX_LOCK (seconds, default 900): longest per-account lock. */
      readonly accountMaxLockMs: number;
      /** Failures per IP within the window before it is locked until the window ends (default 100). */
      readonly ipMaxFailures: number;
      /** LOGIN_IP_WINDOW (seconds, default 900): the per-IP window. */
      readonly ipWindowMs: number;
    };
  };
  readonly mail: {
    readonly smtpUrl: string | undefined;
    readonly from: string;
    readonly sendingEnabled: boolean;
    /** MAIL_TRANSPORT: `smtp` when SMTP_URL is set, else `file` (refused in production unless set explicitly). */
    readonly transport: 'smtp' | 'file';
  };
  /** The account lifecycle (src/accounts/lifecycle; docs/accounts.md). */
  readonly accounts: {
    /** UNACTIVATED_ACCOUNT_TTL (seconds, default 7 days): never-activated accounts older than this are purged. */
    readonly unactivatedTtlMs: number;
    /** PASSWORD_RESET_TTL (seconds, default 3600): reset-link lifetime. */
    readonly passwordResetTtlMs: number;
    /** EMAIL_CHANGE_TTL (seconds, default 86 400): e-mail-change confirmation link lifetime. */
    readonly emailChangeTtlMs: number;
    /** PASSWORD_MIN_STRENGTH (zxcvbn score 0–4, default 3). */
    readonly passwordMinStrength: number;
    /** PASSWORD_RESET_URL (default PUBLIC_URL/password/reset/): the page the reset mail links to, token in the fragment. */
    readonly passwordResetUrl: string;
    /** ACCOUNT_MAIL_ADDRESS_MAX / _IP_MAX per ACCOUNT_MAIL_WINDOW (seconds): resend, reset and e-mail-change requests. */
    readonly mailThrottle: { readonly addressMax: number; readonly ipMax: number; readonly windowMs: number };
  };
  /** Sequence mail (src/sequences; docs/sequences.md). */
  readonly sequences: {
    /** DEFAULT_SEQUENCE_KEY (default `default_outreach`): users join it on activation when it names an active sequence. */
    readonly defaultKey: string;
    /** SEQUENCE_BATCH_SIZE (default 200): sends claimed, and `sent` rows written, per statement. */
    readonly batchSize: number;
    /** SEQUENCE_TICK_LIMIT (default 10 000): most sends per sequence-tick run; the rest wait for the next. */
    readonly tickLimit: number;
    /** SEQUENCE_SMTP_CONNECTIONS (default 5): pooled SMTP connections for sequence mail. */
    readonly smtpConnections: number;
    /** SEQUENCE_SEND_CONCURRENCY (default 4 per SMTP connection): messages handed to the transport at once. */
    readonly sendConcurrency: number;
    /** SEQUENCE_SMTP_MAX_MESSAGES (default 1000): messages per pooled SMTP connection before it is replaced. */
    readonly smtpMaxMessages: number;
    /** SEQUENCE_SMTP_TIMEOUT_MS (default 30 000): connection, greeting and socket timeout. */
    readonly smtpTimeoutMs: number;
    /** SEQUENCE_SMTP_NICENESS (0-19, default 0): Linux nice value of the sequence SMTP thread; higher lets requests go first on busy CPUs. */
    readonly smtpNiceness: number;
    /** SEQUENCE_SEND_LEASE (seconds, default 300): a send left `sending` this long becomes `unknown`. */
    readonly sendLeaseMs: number;
  };
  readonly cron: {
    /** Accepted trigger secrets; empty means triggers answer 503 CRON_NOT_CONFIGURED. */
    readonly secrets: readonly string[];
    readonly allowQueryToken: boolean;
    readonly ipAllowlist: readonly string[];
    /** CRON_THROTTLE tiers (or CRON_THROTTLE_MAX/_WINDOW as one tier); default 30 per 10 minutes. */
    readonly throttle: readonly ThrottleTier[];
  };
  readonly scheduler: {
    readonly enabled: boolean;
    /** Identifies this process in leases and the run ledger. */
    readonly instanceId: string;
    /** Run-ledger history `prune-cron-runs` keeps (CRON_RUNS_RETENTION_DAYS, in days, default 30). */
    readonly runRetentionMs: number;
    /** SCHEDULER_LEASE_TTL (default 20 s): a crashed holder's job or /cron/run lease is taken over after this. */
    readonly leaseTtlMs: number;
    /** SCHEDULER_LEASE_HEARTBEAT (default 5 s, at most a third of the TTL): how often a running holder renews. */
    readonly leaseHeartbeatMs: number;
    /** CRON_RUN_MAX_TIME (default 600 s, seed 002's lock time): longest one /cron/run may take. */
    readonly cronRunMaxMs: number;
    /**
     * CRON_LATE_AFTER (default 10m): the floor of every job's lateness
     * threshold, max(CRON_LATE_AFTER, period + min(period, 1h)); JOB_<NAME>_LATE_AFTER sets one job's.
     */
    readonly lateAfterMs: number;
  };
  readonly jobs: Readonly<Record<string, JobOverride>>;
  /** INACTIVITY_MINUTES (default 30): users without activity this long become offline. */
  readonly inactivityMs: number;
  /** Presence (src/presence, src/http/routes/presence-socket.ts). */
  readonly presence: {
    /** PRESENCE_OFFLINE_GRACE (seconds, default 10): offline this long after the last socket closes. */
    readonly offlineGraceMs: number;
    /** PRESENCE_PING_INTERVAL_MS (default 25 000): a socket silent for two pings is closed. */
    readonly pingIntervalMs: number;
    /** PRESENCE_TICK_MS (default 250): diffs are coalesced and pushed once per tick. */
    readonly tickMs: number;
    /** PRESENCE_HEARTBEAT_MS (default 10 000): instance heartbeat period. */
    readonly heartbeatMs: number;
    /** PRESENCE_INSTANCE_TIMEOUT_MS (default 30 000): a silent instance's connections are reaped. */
    readonly instanceTimeoutMs: number;
    /** PRESENCE_MAX_CONNECTIONS_PER_USER (default 20): further sockets of that user are refused with close code 4008. */
    readonly maxConnectionsPerUser: number;
    /** PRESENCE_VISIBILITY (default `self-and-admins`): who may see whose presence; `signed-in` shows everyone to every user. */
    readonly visibility: 'self-and-admins' | 'signed-in';
  };
  readonly alerts: {
    readonly webhookUrl: string | undefined;
    readonly email: string | undefined;
    /** Consecutive failures that raise a `failing` alert (ALERT_FAILURE_THRESHOLD, default 1). */
    readonly failureThreshold: number;
  };
  /** METRICS_TOKEN: bearer for /metrics; in production also for /openapi.json and /docs, which are closed without it. */
  readonly metricsToken: string | undefined;
  /** HTTP server timeouts and shutdown (docs/http.md). */
  readonly http: {
    /** HTTP_HEADERS_TIMEOUT (seconds, default 10): a request's headers must arrive within this, else 408 and close. */
    readonly headersTimeoutMs: number;
    /** HTTP_REQUEST_TIMEOUT (seconds, default 30): headers and body must arrive within this, else 408 and close. */
    readonly requestTimeoutMs: number;
    /** HTTP_KEEP_ALIVE_TIMEOUT (seconds, default 72, above common load-balancer idle timeouts): an idle connection is closed after this. */
    readonly keepAliveTimeoutMs: number;
    /** SHUTDOWN_GRACE (seconds, default 10): on SIGTERM, in-flight requests get this long before every connection is closed. */
    readonly shutdownGraceMs: number;
  };
  /** The message bus: NATS verify requests and revocation events (src/config/bus.ts). */
  readonly bus: BusConfig;
  /** The maintenance jobs (src/maintenance; docs/maintenance.md). */
  readonly maintenance: {
    /** MAINTENANCE_BATCH_SIZE (default 5000 on PostgreSQL, 1000 on SQLite): rows per delete/update statement. */
    readonly batchSize: number;
    /** MAINTENANCE_BATCH_PAUSE_MS (default 5): pause between batches, so live requests get the database. */
    readonly batchPauseMs: number;
    /** MAINTENANCE_GRACE (seconds, default 86 400): expired tokens and revoked sessions are kept this long. */
    readonly graceMs: number;
    /** JOB_LOGOUT_ALL_USERS_EXCLUDE_ROLES (comma list, default none): roles logout-all-users leaves signed in. */
    readonly logoutExcludeRoles: readonly string[];
    /** JOB_LOGOUT_ALL_USERS_EXCLUDE_USERS (comma list of emails, default none): users logout-all-users leaves signed in. */
    readonly logoutExcludeUsers: readonly string[];
  };
}
