import type { Clock } from '../clock.js';
import type { MaintenanceRepository, SweepRow, TableHealth } from '../db/repositories/maintenance.js';
import type { SessionRow, SessionsRepository } from '../db/repositories/sessions.js';
import { AppError } from '../errors.js';
import type { RevocationView } from './revocation-view.js';
import type { SessionService } from './sessions.js';

/** A live session as the session routes show it. */
export interface LiveSession {
  readonly id: string;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
}

/** One table's line in the auth-health report. */
export interface TableReport extends TableHealth {
  readonly table: string;
  /** Share of rows that are expired, 0..1. */
  readonly expiredShare: number;
  readonly lastSweep: Omit<SweepRow, 'table_name'> | null;
}

/** Listing and revoking sessions for their owner and for admins; the auth-health report. */
export class SessionControl {
  constructor(
    private readonly sessionsRepo: SessionsRepository,
    private readonly sessions: SessionService,
    private readonly view: RevocationView,
    private readonly repo: MaintenanceRepository,
    private readonly clock: Clock,
  ) {}

  private isLive(row: SessionRow, now: number): boolean {
    return (
      row.revoked_at === null &&
      row.idle_expires_at > now &&
      row.absolute_expires_at > now &&
      !this.view.isRevoked(row.id, Number(row.user_id), Number(row.created_at))
    );
  }

  /** The user's live sessions, newest first (revoked, expired and not-before-marked ones left out). */
  async listLive(userId: number): Promise<LiveSession[]> {
    const now = this.clock.now();
    const rows = await this.sessionsRepo.listForUser(userId);
    return rows
      .filter((row) => this.isLive(row, now))
      .map((row) => ({
        id: row.id,
        userAgent: row.user_agent,
        ip: row.ip,
        createdAt: Number(row.created_at),
        lastSeenAt: Number(row.last_seen_at),
        idleExpiresAt: Number(row.idle_expires_at),
        absoluteExpiresAt: Number(row.absolute_expires_at),
      }));
  }

  /**
   * Live sessions of everybody (the console's overview): not revoked and not
   * expired. A user logged out everywhere by a not-before mark has rows
   * marked revoked too, so they are not counted.
   */
  countLive(): Promise<number> {
    return this.sessionsRepo.countLive(this.clock.now());
  }

  /** Revokes one of the user's own live sessions; SESSION_NOT_FOUND for anyone else's, unknown or ended ones. */
  async revokeOwn(userId: number, sessionId: string): Promise<void> {
    await this.revokeOne(userId, sessionId, 'logout');
  }

  /**
   * Revokes one live session of `userId` (an admin's "revoke" in the
   * console; reason `admin`): its access tokens are refused as after a
   * self-revoke. SESSION_NOT_FOUND for a session of someone else, unknown or ended.
   */
  async revokeForUser(userId: number, sessionId: string): Promise<void> {
    await this.revokeOne(userId, sessionId, 'admin');
  }

  private async revokeOne(userId: number, sessionId: string, reason: string): Promise<void> {
    const row = await this.sessionsRepo.findById(sessionId);
    if (!row || Number(row.user_id) !== userId || !this.isLive(row, this.clock.now())) {
      throw new AppError('SESSION_NOT_FOUND', 'No such session.');
    }
    await this.sessions.revoke(sessionId, reason);
    // This instance refuses the tokens at once; the others on their next view refresh (~1 s).
    await this.view.refreshNow();
  }

  /** Revokes every live session of the user except `keep`; returns how many. */
  async revokeOthers(userId: number, keep: string): Promise<number> {
    let revoked = 0;
    for (const session of await this.listLive(userId)) {
      if (session.id !== keep && (await this.sessions.revoke(session.id, 'logout-others'))) revoked += 1;
    }
    await this.view.refreshNow();
    return revoked;
  }

  /**
   * Logs one user out everywhere: a per-user not-before mark (every instance
   * refuses the access tokens within a view refresh) plus the rows marked
   * revoked. Returns the sessions that were live.
   */
  async logoutUser(userId: number): Promise<number> {
    const live = (await this.listLive(userId)).length;
    await this.sessions.revokeAllForUser(userId);
    await this.repo.revokeUserSessions(userId, this.clock.now(), 'admin');
    await this.view.refreshNow();
    return live;
  }

  /** Row counts, expired share, oldest expired row and last sweep per table. */
  async health(): Promise<TableReport[]> {
    const now = this.clock.now();
    const [tokens, revocations, sessions, sweeps] = await Promise.all([
      this.repo.expiringHealth('refresh_tokens', now),
      this.repo.expiringHealth('session_revocations', now),
      this.repo.sessionsHealth(now),
      this.repo.sweeps(),
    ]);
    const report = (table: string, health: TableHealth): TableReport => {
      const sweep = sweeps.find((row) => row.table_name === table);
      const lastSweep = sweep ? { job: sweep.job, started_at: sweep.started_at, finished_at: sweep.finished_at, duration_ms: sweep.duration_ms, rows: sweep.rows, status: sweep.status } : null;
      return { table, ...health, expiredShare: health.rows === 0 ? 0 : health.expired / health.rows, lastSweep };
    };
    return [report('refresh_tokens', tokens), report('session_revocations', revocations), report('sessions', sessions)];
  }
}
