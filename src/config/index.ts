import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseBus, type BusConfig } from './bus.js';
import { ConfigError } from './config-error.js';
import { readDuration } from './durations.js';
import { EnvReader, type Env } from './env-reader.js';
import { DEFAULT_THROTTLE, parseThrottleTiers, type ThrottleTier } from './cron-throttle.js';
import { MIN_SECRET_BYTES, resolveSecretKey } from './secrets.js';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js';

export { ConfigError } from './config-error.js';
export type { Env } from './env-reader.js';
export type { ThrottleTier } from './cron-throttle.js';
export type { TrustProxy } from './trust-proxy.js';

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


function parseDatabase(reader: EnvReader, dataDir: string): DatabaseConfig {
  const url = reader.raw('DATABASE_URL') ?? `sqlite:${resolve(dataDir, 'curfew.db')}`;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/curfew.db');
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    const schema = reader.raw('DATABASE_SCHEMA');
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new ConfigError('DATABASE_SCHEMA', 'must be a lower-case SQL identifier such as curfew');
    }
    return { kind: 'postgres', url, schema, poolSize: reader.integer('DATABASE_POOL_SIZE', 10, { min: 1, max: 200 }) };
  }
  throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://, e.g. sqlite:./data/curfew.db');
}

function parseCronSecrets(reader: EnvReader, production: boolean): string[] {
  const names = ['CRON_SECRETS', 'CRON_SECRET', 'CRON_TOKEN', 'CRON_SECRET_KEY'];
  const secrets: string[] = [];
  for (const name of names) {
    for (const secret of reader.list(name)) {
      if (secret === 'undefined' || secret === 'null') {
        throw new ConfigError(name, `holds the literal "${secret}"; set a real secret (openssl rand -hex 32) or unset it`);
      }
      if (production && Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
        throw new ConfigError(name, `a cron secret must be at least ${MIN_SECRET_BYTES} bytes in production; generate one with: openssl rand -hex 32`);
      }
      if (!secrets.includes(secret)) secrets.push(secret);
    }
  }
  return secrets;
}

const JOB_FIELDS = ['SCHEDULE', 'ENABLED', 'TZ', 'OVERLAP', 'CATCH_UP', 'TIMEOUT', 'LEASE_TTL', 'RETRIES', 'DST', 'LATE_AFTER'] as const;

/**
 * `JOB_<NAME>_<FIELD>` for the fields above, keyed by kebab-case job name
 * (`JOB_LOGOUT_ALL_USERS_ENABLED` -> `logout-all-users`). Values stay strings
 * here; the job registry validates them against each job and throws ConfigError.
 */
function parseJobOverrides(reader: EnvReader): Record<string, JobOverride> {
  const jobs: Record<string, Record<string, string>> = {};
  for (const [key, value] of reader.withPrefix('JOB_')) {
    const field = JOB_FIELDS.find((suffix) => key.endsWith(`_${suffix}`));
    if (field === undefined || value === '') continue;
    const name = key.slice('JOB_'.length, -(field.length + 1)).toLowerCase().replace(/_/g, '-');
    (jobs[name] ??= {})[field] = value;
  }
  return jobs;
}

/** The lease TTL and its heartbeat; the heartbeat must leave room for two missed beats within the TTL. */
function parseLeaseTiming(reader: EnvReader): { leaseTtlMs: number; leaseHeartbeatMs: number } {
  const leaseTtlMs = readDuration(reader, 'SCHEDULER_LEASE_TTL', 20_000, { min: 300 });
  const leaseHeartbeatMs = readDuration(reader, 'SCHEDULER_LEASE_HEARTBEAT', Math.min(5_000, Math.floor(leaseTtlMs / 3)), { min: 50 });
  if (leaseHeartbeatMs * 3 > leaseTtlMs) {
    throw new ConfigError('SCHEDULER_LEASE_HEARTBEAT', `must be at most a third of SCHEDULER_LEASE_TTL (${leaseTtlMs} ms), got ${leaseHeartbeatMs} ms`);
  }
  return { leaseTtlMs, leaseHeartbeatMs };
}

/** MAIL_TRANSPORT: `smtp` (needs SMTP_URL) or `file` (`.eml` files); unset, it follows SMTP_URL. */
function parseMailTransport(reader: EnvReader): 'smtp' | 'file' {
  const smtpUrl = reader.raw('SMTP_URL');
  if (reader.raw('MAIL_TRANSPORT') === undefined) return smtpUrl === undefined ? 'file' : 'smtp';
  const explicit = reader.oneOf('MAIL_TRANSPORT', ['smtp', 'file'] as const, 'smtp');
  if (explicit === 'smtp' && smtpUrl === undefined) throw new ConfigError('MAIL_TRANSPORT', 'is smtp but SMTP_URL is not set; set SMTP_URL=smtp://user:pass@host:587');
  return explicit;
}

/**
 * Production mail silently landing in files is refused: set SMTP_URL, or
 * MAIL_TRANSPORT=file on purpose. Checked last, so other errors come first.
 */
function checkProductionMail(reader: EnvReader, config: Config): void {
  if (config.env !== 'production' || config.mail.smtpUrl !== undefined || reader.raw('MAIL_TRANSPORT') !== undefined) return;
  throw new ConfigError(
    'SMTP_URL',
    'is not set in production, so mail would only be written to files under DATA_DIR/mail; set SMTP_URL=smtp://user:pass@host:587, or MAIL_TRANSPORT=file if files are what you want',
  );
}

/** CRON_THROTTLE (tiers) or its one-tier spelling CRON_THROTTLE_MAX / CRON_THROTTLE_WINDOW; not both. */
function parseThrottle(reader: EnvReader): readonly ThrottleTier[] {
  const tiers = reader.raw('CRON_THROTTLE');
  const max = reader.raw('CRON_THROTTLE_MAX');
  const window = reader.raw('CRON_THROTTLE_WINDOW');
  if (tiers !== undefined) {
    if (max !== undefined || window !== undefined) {
      throw new ConfigError('CRON_THROTTLE', 'is set together with CRON_THROTTLE_MAX/CRON_THROTTLE_WINDOW; keep one spelling, e.g. CRON_THROTTLE=10/10m,1/1m');
    }
    return parseThrottleTiers(tiers);
  }
  if (max === undefined && window === undefined) return DEFAULT_THROTTLE;
  const first = DEFAULT_THROTTLE[0] as ThrottleTier;
  return [
    {
      max: reader.integer('CRON_THROTTLE_MAX', first.max, { min: 1 }),
      windowMs: reader.wholeUnitsAsMs('CRON_THROTTLE_WINDOW', 's', first.windowMs / 1000, { min: 1 }),
    },
  ];
}

export interface LoadConfigOptions {
  /** Defaults to process.env (plus `.env` when the CLI loaded it). */
  readonly env?: Env;
  /** Test-only: skip the on-disk development secret and use this one. */
  readonly secretKey?: string;
}

/** Reads, validates, defaults and freezes the configuration. Throws ConfigError. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const reader = new EnvReader(options.env ?? process.env);
  const env = reader.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = env === 'production';
  const host = reader.string('HOST', '127.0.0.1');
  const port = reader.integer('PORT', 8000, { min: 0, max: 65535 });
  const sequenceConnections = reader.integer('SEQUENCE_SMTP_CONNECTIONS', 5, { min: 1, max: 100 });
  const dataDir = resolve(reader.string('DATA_DIR', './data'));
  // Listening everywhere: links point at loopback. An IPv6 literal needs brackets in a URL.
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const publicUrl = (reader.url('PUBLIC_URL', ['http:', 'https:']) ?? `http://${displayHost}:${port}`).replace(/\/$/, '');

  const secret = resolveSecretKey(reader, { production, dataDir, override: options.secretKey });
  const allowedOrigins = reader.list('ALLOWED_ORIGINS');
  for (const origin of allowedOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError('ALLOWED_ORIGINS', `"${origin}" is not an origin; use scheme://host[:port] without a path`);
    }
  }

  const config: Config = {
    env,
    host,
    port,
    publicUrl,
    dataDir,
    database: parseDatabase(reader, dataDir),
    logLevel: reader.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, env === 'test' ? 'silent' : 'info'),
    bodyLimit: reader.integer('BODY_LIMIT', 64 * 1024, { min: 1024 }),
    secretKey: secret.value,
    secretKeySource: secret.source,
    trustProxy: parseTrustProxy(reader.raw('TRUST_PROXY')),
    allowedOrigins: allowedOrigins.length > 0 ? allowedOrigins : [new URL(publicUrl).origin],
    cookies: {
      secure: reader.boolean('COOKIE_SECURE', true),
      accessName: reader.string('ACCESS_COOKIE_NAME', 'access_token'),
      refreshName: reader.string('REFRESH_COOKIE_NAME', 'refresh_token'),
      csrfName: reader.string('CSRF_COOKIE_NAME', 'csrftoken'),
    },
    auth: {
      issuer: reader.string('JWT_ISSUER', publicUrl),
      audience: reader.string('JWT_AUDIENCE', 'curfew'),
      accessTtlMs: reader.wholeUnitsAsMs('ACCESS_TOKEN_TTL', 's', 300, { min: 10, max: 86_400 }),
      refreshTtlMs: reader.wholeUnitsAsMs('REFRESH_TOKEN_TTL', 's', 7 * 86_400, { min: 60 }),
      refreshReuseGraceMs: reader.wholeUnitsAsMs('REFRESH_REUSE_GRACE', 's', 20, { min: 0, max: 600 }),
      sessionIdleMs: reader.wholeUnitsAsMs('SESSION_IDLE_TTL', 's', 7 * 86_400, { min: 60 }),
      sessionAbsoluteMs: reader.wholeUnitsAsMs('SESSION_ABSOLUTE_TTL', 's', 30 * 86_400, { min: 60 }),
      activationTtlMs: reader.wholeUnitsAsMs('ACTIVATION_TTL', 's', 24 * 3600, { min: 60 }),
      argon2: {
        memoryCost: reader.integer('ARGON2_MEMORY_KIB', 19_456, { min: 1024 }),
        timeCost: reader.integer('ARGON2_TIME_COST', 2, { min: 1 }),
        parallelism: reader.integer('ARGON2_PARALLELISM', 1, { min: 1 }),
      },
      loginThrottle: {
        accountFreeFailures: reader.integer('LOGIN_ACCOUNT_FREE_FAILURES', 5, { min: 1 }),
        accountFirstLockMs: reader.wholeUnitsAsMs('LOGIN_ACCOUNT_FIRST_LOCK', 's', 1, { min: 1, max: 86_400 }),
        accountMaxLockMs: reader.wholeUnitsAsMs('LOGIN_ACCOUNT_MAX_LOCK', 's', 900, { min: 1 }),
        ipMaxFailures: reader.integer('LOGIN_IP_MAX_FAILURES', 100, { min: 1 }),
        ipWindowMs: reader.wholeUnitsAsMs('LOGIN_IP_WINDOW', 's', 900, { min: 1 }),
      },
    },
    mail: {
      smtpUrl: reader.url('SMTP_URL', ['smtp:', 'smtps:']),
      from: reader.string('MAIL_FROM', 'curfew <no-reply@localhost>'),
      sendingEnabled: reader.boolean('EMAIL_SENDING_ENABLED', true),
      transport: parseMailTransport(reader),
    },
    accounts: {
      unactivatedTtlMs: reader.wholeUnitsAsMs('UNACTIVATED_ACCOUNT_TTL', 's', 7 * 86_400, { min: 3600 }),
      passwordResetTtlMs: reader.wholeUnitsAsMs('PASSWORD_RESET_TTL', 's', 3600, { min: 60, max: 86_400 }),
      emailChangeTtlMs: reader.wholeUnitsAsMs('EMAIL_CHANGE_TTL', 's', 86_400, { min: 60 }),
      passwordMinStrength: reader.integer('PASSWORD_MIN_STRENGTH', 3, { min: 0, max: 4 }),
      passwordResetUrl: reader.url('PASSWORD_RESET_URL', ['http:', 'https:']) ?? `${publicUrl}/password/reset/`,
      mailThrottle: {
        addressMax: reader.integer('ACCOUNT_MAIL_ADDRESS_MAX', 3, { min: 1 }),
        ipMax: reader.integer('ACCOUNT_MAIL_IP_MAX', 30, { min: 1 }),
        windowMs: reader.wholeUnitsAsMs('ACCOUNT_MAIL_WINDOW', 's', 900, { min: 1 }),
      },
    },
    sequences: {
      defaultKey: reader.string('DEFAULT_SEQUENCE_KEY', 'default_outreach'),
      batchSize: reader.integer('SEQUENCE_BATCH_SIZE', 200, { min: 1, max: 5000 }),
      tickLimit: reader.integer('SEQUENCE_TICK_LIMIT', 10_000, { min: 1 }),
      smtpConnections: sequenceConnections,
      smtpMaxMessages: reader.integer('SEQUENCE_SMTP_MAX_MESSAGES', 1000, { min: 1 }),
      // Four per connection: one on the wire, the next ones built and waiting in the pool.
      sendConcurrency: reader.integer('SEQUENCE_SEND_CONCURRENCY', 4 * sequenceConnections, { min: 1, max: 10_000 }),
      smtpTimeoutMs: reader.integer('SEQUENCE_SMTP_TIMEOUT_MS', 30_000, { min: 100 }),
      smtpNiceness: reader.integer('SEQUENCE_SMTP_NICENESS', 0, { min: 0, max: 19 }),
      sendLeaseMs: reader.wholeUnitsAsMs('SEQUENCE_SEND_LEASE', 's', 300, { min: 10 }),
    },
    cron: {
      secrets: parseCronSecrets(reader, production),
      allowQueryToken: reader.boolean('CRON_ALLOW_QUERY_TOKEN', false),
      ipAllowlist: reader.list('CRON_IP_ALLOWLIST'),
      throttle: parseThrottle(reader),
    },
    scheduler: {
      enabled: reader.boolean('SCHEDULER', true),
      instanceId: reader.string('INSTANCE_ID', `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
      runRetentionMs: reader.wholeUnitsAsMs('CRON_RUNS_RETENTION_DAYS', 'd', 30, { min: 1 }),
      ...parseLeaseTiming(reader),
      cronRunMaxMs: readDuration(reader, 'CRON_RUN_MAX_TIME', 600_000, { min: 1000 }),
      lateAfterMs: readDuration(reader, 'CRON_LATE_AFTER', 600_000, { min: 60_000 }),
    },
    jobs: parseJobOverrides(reader),
    inactivityMs: reader.wholeUnitsAsMs('INACTIVITY_MINUTES', 'm', 30, { min: 1 }),
    presence: {
      offlineGraceMs: reader.wholeUnitsAsMs('PRESENCE_OFFLINE_GRACE', 's', 10, { min: 0, max: 3600 }),
      pingIntervalMs: reader.integer('PRESENCE_PING_INTERVAL_MS', 25_000, { min: 50, max: 30_000 }),
      tickMs: reader.integer('PRESENCE_TICK_MS', 250, { min: 10, max: 10_000 }),
      heartbeatMs: reader.integer('PRESENCE_HEARTBEAT_MS', 10_000, { min: 50 }),
      instanceTimeoutMs: reader.integer('PRESENCE_INSTANCE_TIMEOUT_MS', 30_000, { min: 100 }),
      maxConnectionsPerUser: reader.integer('PRESENCE_MAX_CONNECTIONS_PER_USER', 20, { min: 1, max: 10_000 }),
      visibility: reader.oneOf('PRESENCE_VISIBILITY', ['self-and-admins', 'signed-in'] as const, 'self-and-admins'),
    },
    alerts: {
      webhookUrl: reader.url('ALERT_WEBHOOK_URL', ['http:', 'https:']),
      email: reader.raw('ALERT_EMAIL'),
      failureThreshold: reader.integer('ALERT_FAILURE_THRESHOLD', 1, { min: 1 }),
    },
    metricsToken: reader.raw('METRICS_TOKEN'),
    http: parseHttp(reader),
    bus: parseBus(reader),
    maintenance: {
      // SQLite has one writer: smaller batches leave live requests a gap more often (bench/RESULTS.md).
      batchSize: reader.integer('MAINTENANCE_BATCH_SIZE', reader.raw('DATABASE_URL')?.startsWith('postgres') ? 5000 : 1000, { min: 1, max: 100_000 }),
      batchPauseMs: reader.integer('MAINTENANCE_BATCH_PAUSE_MS', 5, { min: 0, max: 10_000 }),
      graceMs: reader.wholeUnitsAsMs('MAINTENANCE_GRACE', 's', 86_400, { min: 0 }),
      logoutExcludeRoles: reader.list('JOB_LOGOUT_ALL_USERS_EXCLUDE_ROLES'),
      logoutExcludeUsers: reader.list('JOB_LOGOUT_ALL_USERS_EXCLUDE_USERS').map((email) => email.toLowerCase()),
    },
  };
  checkPresenceTimings(config.presence);
  checkProductionMail(reader, config);
  return deepFreeze(config);
}

/** Timeouts for an auth API: small bodies, so slow senders and silent sockets are cut early. */
function parseHttp(reader: EnvReader): Config['http'] {
  const headersTimeoutMs = reader.wholeUnitsAsMs('HTTP_HEADERS_TIMEOUT', 's', 10, { min: 1, max: 3600 });
  const requestTimeoutMs = reader.wholeUnitsAsMs('HTTP_REQUEST_TIMEOUT', 's', 30, { min: 1, max: 3600 });
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT', `must not exceed HTTP_REQUEST_TIMEOUT (${requestTimeoutMs / 1000}); e.g. 10 and 30`);
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: reader.wholeUnitsAsMs('HTTP_KEEP_ALIVE_TIMEOUT', 's', 72, { min: 1, max: 3600 }),
    shutdownGraceMs: reader.wholeUnitsAsMs('SHUTDOWN_GRACE', 's', 10, { min: 0, max: 3600 }),
  };
}

/** An instance must beat more than once per timeout, or live instances get reaped as dead. */
function checkPresenceTimings(presence: Config['presence']): void {
  if (presence.heartbeatMs * 2 > presence.instanceTimeoutMs) {
    throw new ConfigError(
      'PRESENCE_INSTANCE_TIMEOUT_MS',
      `must be at least twice PRESENCE_HEARTBEAT_MS (${presence.heartbeatMs}); raise it or lower the heartbeat, e.g. 10000 and 30000`,
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
