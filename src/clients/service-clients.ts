import type { Clock } from '../clock.js';
import type { ServiceClientRow } from '../db/repositories/service-clients.js';
import { AppError } from '../errors.js';
import { hashToken, randomToken, safeEqual } from '../tokens/secrets.js';

/** Client names: what goes before the colon in HTTP Basic. */
export const CLIENT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The store behind the service (ServiceClientsRepository). */
export interface ServiceClientStore {
  insert(name: string, secretHash: string, now: number): Promise<ServiceClientRow | undefined>;
  findByName(name: string): Promise<ServiceClientRow | undefined>;
  list(): Promise<ServiceClientRow[]>;
  revoke(name: string, now: number): Promise<boolean>;
  touch(name: string, now: number): Promise<void>;
}

/** The failed-attempt throttle (LoginLimiter: per key with back-off, per IP). */
export interface CredentialThrottle {
  check(key: string, ip: string): Promise<unknown>;
  recordFailure(key: string, ip: string): Promise<void>;
}

/** A client as listed (never with its secret). */
export interface ServiceClient {
  readonly name: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

export interface ServiceClientsOptions {
  /** How long a verified credential is trusted from memory, in ms (default 5000; revocation takes at most this long). */
  readonly cacheMs?: number;
  /** At most one last_used_at write per client this often, in ms (default 60 000). */
  readonly touchIntervalMs?: number;
}

const INVALID_CLIENT = 'The client credentials are invalid.';
const MAX_CACHED = 1000;

/**
 * Service clients: the callers of token introspection, authenticated with
 * HTTP Basic (name + secret). Secrets are 256 random bits, shown once and
 * stored as SHA-256 (like refresh tokens: a slow hash adds nothing to a
 * secret that cannot be guessed, and would cost every introspection).
 */
export class ServiceClients {
  /** `name:secret` header value -> when the check expires. */
  private readonly verified = new Map<string, { name: string; until: number }>();
  private readonly lastTouch = new Map<string, number>();

  constructor(
    private readonly store: ServiceClientStore,
    private readonly throttle: CredentialThrottle,
    private readonly clock: Clock,
    private readonly options: ServiceClientsOptions = {},
  ) {}

  /** Creates a client; returns its secret (shown once). CLIENT_EXISTS when the name is taken, VALIDATION_FAILED for a bad name. */
  async create(name: string): Promise<{ client: ServiceClient; secret: string }> {
    if (!CLIENT_NAME.test(name)) {
      throw new AppError('VALIDATION_FAILED', 'A client name is 1-64 characters: a-z, 0-9, dot, dash, underscore, starting with a letter or digit.');
    }
    const secret = randomToken();
    const row = await this.store.insert(name, hashToken(secret), this.clock.now());
    if (!row) throw new AppError('CLIENT_EXISTS', `A client named ${name} exists (revoked names stay taken).`);
    return { client: toClient(row), secret };
  }

  async list(): Promise<ServiceClient[]> {
    return (await this.store.list()).map(toClient);
  }

  /** Revokes a client; CLIENT_NOT_FOUND when there is no live client by that name. */
  async revoke(name: string): Promise<void> {
    if (!(await this.store.revoke(name, this.clock.now()))) throw new AppError('CLIENT_NOT_FOUND', 'No live client by that name.');
    for (const [key, entry] of this.verified) if (entry.name === name) this.verified.delete(key);
  }

  /**
   * The client name for an `Authorization: Basic ...` header, else
   * INVALID_CLIENT (401) or RATE_LIMITED (429) after repeated failures from
   * one client name or IP. A good credential is remembered for `cacheMs`.
   */
  async authenticate(authorization: string | undefined, ip: string): Promise<string> {
    const now = this.clock.now();
    if (authorization !== undefined) {
      const hit = this.verified.get(authorization);
      if (hit && hit.until > now) return hit.name;
    }
    const credential = parseBasic(authorization);
    if (!credential) throw new AppError('INVALID_CLIENT', INVALID_CLIENT, { headers: CHALLENGE });
    const key = `client:${credential.name}`;
    await this.throttle.check(key, ip);
    const row = CLIENT_NAME.test(credential.name) ? await this.store.findByName(credential.name) : undefined;
    // The hash is compared even for an unknown client, so timing does not say which names exist.
    const matches = safeEqual(hashToken(credential.secret), row?.secret_hash ?? hashToken(''));
    if (!row || row.revoked_at !== null || !matches) {
      await this.throttle.recordFailure(key, ip);
      throw new AppError('INVALID_CLIENT', INVALID_CLIENT, { headers: CHALLENGE });
    }
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
    this.verified.set(authorization as string, { name: row.name, until: now + (this.options.cacheMs ?? 5000) });
    const last = this.lastTouch.get(row.name) ?? Number.NEGATIVE_INFINITY;
    if (now - last >= (this.options.touchIntervalMs ?? 60_000)) {
      this.lastTouch.set(row.name, now);
      await this.store.touch(row.name, now);
    }
    return row.name;
  }
}

/** The WWW-Authenticate challenge of every 401 (RFC 7617). */
export const CHALLENGE = { 'www-authenticate': 'Basic realm="curfew", charset="UTF-8"' } as const;

/**
 * `Basic base64(id:secret)`; per RFC 6749 §2.3.1 the id and secret are
 * form-urlencoded before encoding, so they are decoded here.
 */
export function parseBasic(header: string | undefined): { name: string; secret: string } | undefined {
  if (header === undefined || header.length > 1024) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    const plus = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
    return { name: plus(decoded.slice(0, colon)), secret: plus(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function toClient(row: ServiceClientRow): ServiceClient {
  return { name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at, lastUsedAt: row.last_used_at };
}
