import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseBus } from './bus.js';
import { ConfigError } from './config-error.js';
import { readDuration } from './durations.js';
import { EnvReader, type Env } from './env-reader.js';
import { DEFAULT_LEASE_HEARTBEAT_MS, DEFAULT_LEASE_TTL_MS } from './lease-defaults.js';
import { DEFAULT_THROTTLE, parseThrottleTiers, type ThrottleTier } from './cron-throttle.js';
import { MIN_SECRET_BYTES, resolveSecretKey } from './secrets.js';
import { parseTrustProxy } from './trust-proxy.js';
import type { Config, DatabaseConfig, JobOverride } from './types.js';

export { ConfigError } from './config-error.js';
export { DEFAULT_LEASE_HEARTBEAT_MS, DEFAULT_LEASE_TTL_MS } from './lease-defaults.js';
export type { Env } from './env-reader.js';
export type { ThrottleTier } from './cron-throttle.js';
export type { TrustProxy } from './trust-proxy.js';

export type { Config, DatabaseConfig, JobOverride } from './types.js';

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
  const leaseTtlMs = readDuration(reader, 'SCHEDULER_LEASE_TTL', DEFAULT_LEASE_TTL_MS, { min: 300 });
  const leaseHeartbeatMs = readDuration(reader, 'SCHEDULER_LEASE_HEARTBEAT', Math.min(DEFAULT_LEASE_HEARTBEAT_MS, Math.floor(leaseTtlMs / 3)), { min: 50 });
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
