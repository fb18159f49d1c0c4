import type { Clock } from '../clock.js';
import type { RevocationMarkEntry, RevokedSessionEntry } from '../db/repositories/revocations.js';

/** Where the view reads from (RevocationsRepository). */
export interface RevocationSource {
  sessionsRecordedSince(since: number, now: number): Promise<RevokedSessionEntry[]>;
  marksRecordedSince(since: number, relevantAfter: number): Promise<RevocationMarkEntry[]>;
}

export interface RevocationViewOptions {
  /** Sessions live at most this long (ms); older not-before marks cannot matter and are dropped. */
  readonly sessionAbsoluteMs: number;
  /**
   * Each refresh re-reads rows recorded this long before the previous refresh
   * (default 60 s), covering late commits and clock skew between instances.
   */
  readonly overlapMs?: number;
}

/**
 * The in-memory revocation view every access-token check consults, so
 * verification needs no database query. Small by construction: a global
 * not-before time, per-user not-before times, and sessions revoked recently
 * (kept only until their access tokens would have expired anyway). A session
 * is revoked when it is listed, or when it was created at or before the
 * global or its user's not-before time.
 */
export class RevocationView {
  private globalNotBefore = 0;
  private readonly userNotBefore = new Map<number, number>();
  /** Users the global mark spares up to this time (logout-all-users exclusions; a handful). */
  private readonly userExemptUntil = new Map<number, number>();
  private readonly revokedSessions = new Map<string, number>();
  private cursor: number | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly source: RevocationSource,
    private readonly clock: Clock,
    private readonly options: RevocationViewOptions,
  ) {}

  /** True when tokens of this session must be refused. */
  isRevoked(sessionId: string, userId: number, sessionCreatedAt: number): boolean {
    if (sessionCreatedAt <= this.globalNotBefore && (this.userExemptUntil.get(userId) ?? 0) < this.globalNotBefore) return true;
    const userMark = this.userNotBefore.get(userId);
    if (userMark !== undefined && sessionCreatedAt <= userMark) return true;
    return this.revokedSessions.has(sessionId);
  }

  /** Entries held, for metrics and tests. */
  size(): { sessions: number; users: number } {
    return { sessions: this.revokedSessions.size, users: this.userNotBefore.size + this.userExemptUntil.size };
  }

  /**
   * Loads what changed since the last refresh. Concurrent callers share one
   * round-trip; a caller arriving during a refresh waits for a fresh one, so
   * a revocation committed before the call is always seen after it.
   */
  async refreshNow(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    this.inFlight = this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(): Promise<void> {
    const now = this.clock.now();
    const overlap = this.options.overlapMs ?? 60_000;
    const since = this.cursor === undefined ? 0 : this.cursor - overlap;
    const relevantAfter = now - this.options.sessionAbsoluteMs;
    const [sessions, marks] = await Promise.all([
      this.source.sessionsRecordedSince(since, now),
      this.source.marksRecordedSince(since, relevantAfter),
    ]);
    for (const entry of sessions) this.revokedSessions.set(entry.sessionId, entry.expiresAt);
    for (const mark of marks) {
      if (mark.exempt === true && mark.userId !== null) {
        this.userExemptUntil.set(mark.userId, Math.max(this.userExemptUntil.get(mark.userId) ?? 0, mark.notBefore));
      } else if (mark.userId === null) this.globalNotBefore = Math.max(this.globalNotBefore, mark.notBefore);
      else this.userNotBefore.set(mark.userId, Math.max(this.userNotBefore.get(mark.userId) ?? 0, mark.notBefore));
    }
    for (const [sessionId, expiresAt] of this.revokedSessions) if (expiresAt <= now) this.revokedSessions.delete(sessionId);
    for (const [userId, notBefore] of this.userNotBefore) if (notBefore <= relevantAfter) this.userNotBefore.delete(userId);
    for (const [userId, until] of this.userExemptUntil) if (until <= relevantAfter) this.userExemptUntil.delete(userId);
    this.cursor = now;
  }
}
