import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { RevocationsRepository } from '../db/repositories/revocations.js';
import type { SessionRow, SessionsRepository } from '../db/repositories/sessions.js';

export interface SessionOptions {
  /** Idle lifetime in ms (SESSION_IDLE_TTL, default 7 days): extended by every refresh. */
  readonly idleMs: number;
  /** Absolute lifetime in ms (SESSION_ABSOLUTE_TTL, default 30 days): never extended. */
  readonly absoluteMs: number;
  /** Access-token lifetime in ms: how long a revocation must stay in the views. */
  readonly accessTtlMs: number;
  /** At most one activity write per session this often (default 60 000 ms). */
  readonly touchIntervalMs?: number;
}

export interface NewSession {
  readonly userId: number;
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
}

/** Why a session ended, as stored in `revoked_reason`. */
export type RevokeReason = 'logout' | 'refresh-token-reuse' | 'user-inactive' | 'admin' | (string & {});

/** Sessions whose last activity write this instance remembers (the throttle's memory bound). */
const MAX_TRACKED_TOUCHES = 100_000;

/** Creates and revokes login sessions. */
export class SessionService {
  /** Session id -> when this instance last wrote its activity. */
  private readonly lastTouch = new Map<string, number>();

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly revocations: RevocationsRepository,
    private readonly clock: Clock,
    private readonly options: SessionOptions,
  ) {}

  async create(input: NewSession): Promise<SessionRow> {
    const now = this.clock.now();
    const row: SessionRow = {
      id: randomBytes(18).toString('base64url'),
      user_id: input.userId,
      user_agent: input.userAgent?.slice(0, 512) ?? null,
      ip: input.ip ?? null,
      created_at: now,
      last_seen_at: now,
      idle_expires_at: Math.min(now + this.options.idleMs, now + this.options.absoluteMs),
      absolute_expires_at: now + this.options.absoluteMs,
      revoked_at: null,
      revoked_reason: null,
    };
    await this.sessions.insert(row);
    return row;
  }

  /**
   * An authenticated request on this session: moves `last_seen_at` and the
   * idle expiry, written at most once per touch interval per session (per
   * instance), so a busy client costs one write a minute, not one per request.
   * Returns the write, or undefined when none was due (no promise on the
   * per-request hot path).
   */
  touch(sessionId: string): Promise<void> | undefined {
    const now = this.clock.now();
    const interval = this.options.touchIntervalMs ?? 60_000;
    const last = this.lastTouch.get(sessionId);
    if (last !== undefined && now - last < interval) return undefined;
    if (this.lastTouch.size >= MAX_TRACKED_TOUCHES) this.forgetTouchesBefore(now - interval);
    this.lastTouch.set(sessionId, now);
    return this.sessions.touch(sessionId, now, now + this.options.idleMs);
  }

  private forgetTouchesBefore(cutoff: number): void {
    for (const [id, at] of this.lastTouch) if (at < cutoff) this.lastTouch.delete(id);
    // All recent (more live sessions a minute than the bound): start over rather
    // than scan again on every request; the cost is one extra write per session.
    if (this.lastTouch.size >= MAX_TRACKED_TOUCHES) this.lastTouch.clear();
  }

  async find(sessionId: string): Promise<SessionRow | undefined> {
    return this.sessions.findById(sessionId);
  }

  /**
   * Revokes one session and its refresh tokens; every instance's revocation
   * view picks it up within about a second. False when it was already revoked.
   */
  async revoke(sessionId: string, reason: RevokeReason): Promise<boolean> {
    const now = this.clock.now();
    // One second of margin: a token issued in the same second may expire up to 999 ms later than now + TTL.
    return this.sessions.revoke(sessionId, reason, now, now + this.options.accessTtlMs + 1000);
  }

  /** Ends every session of one user existing now ("log out everywhere"). */
  async revokeAllForUser(userId: number): Promise<void> {
    const now = this.clock.now();
    await this.revocations.setNotBefore(userId, now, now);
  }

  /** Ends every session of every user existing now ("log out everyone"). */
  async revokeEveryone(): Promise<void> {
    const now = this.clock.now();
    await this.revocations.setNotBefore(null, now, now);
  }
}
