import type { Clock } from '../clock.js';
import type { ExpiringTable, MaintenanceRepository } from '../db/repositories/maintenance.js';
import type { Counts, JobContext } from '../jobs/types.js';
import { runBatches } from './batch.js';

export interface MaintenanceOptions {
  /** Rows per statement (MAINTENANCE_BATCH_SIZE, default 5000). */
  readonly batchSize: number;
  /** Pause between batches in ms (MAINTENANCE_BATCH_PAUSE_MS, default 5). */
  readonly pauseMs: number;
  /** Expired tokens and revoked sessions are kept this long (MAINTENANCE_GRACE, default 1 day). */
  readonly graceMs: number;
  /**
   * The absolute session lifetime (SESSION_ABSOLUTE_TTL): a per-user
   * not-before mark older than this can only refer to sessions that are dead
   * anyway, so flush-expired-tokens deletes it (after the grace).
   */
  readonly sessionAbsoluteMs: number;
  /** Roles and emails logout-all-users always spares (JOB_LOGOUT_ALL_USERS_EXCLUDE_ROLES / _USERS). */
  readonly excludeRoles: readonly string[];
  readonly excludeUsers: readonly string[];
  /**
   * Reloads this process's revocation view (the auth area's refreshNow),
   * called as soon as logout-all-users has written its not-before marks, so
   * the instance running the job refuses the old access tokens at once, as
   * an admin's revoke does; other instances follow on their next view
   * refresh (~1 s). A port, so this module stays free of HTTP and auth
   * wiring. Default: none (the view catches up on its own loop).
   */
  readonly refreshRevocations?: () => Promise<void>;
}

/** Extra exclusions for one logout-all-users run (the CLI flags). */
export interface LogoutExclusions {
  readonly roles: readonly string[];
  readonly emails: readonly string[];
}

/** What a run was cut short by: the signal's reason, rethrown after bookkeeping. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('cancelled');
}

/**
 * The bodies of flush-expired-tokens, clear-expired-sessions and
 * logout-all-users: bounded batches, progress, clean stop on abort. A stopped
 * run leaves only whole, committed batches behind, so the next run continues
 * from the data itself: nothing is lost and nothing is counted twice.
 */
export class MaintenanceJobs {
  constructor(
    private readonly repo: MaintenanceRepository,
    private readonly clock: Clock,
    private readonly options: MaintenanceOptions,
  ) {}

  /**
   * Deletes refresh tokens and session revocations past expiry + grace, and
   * per-user not-before marks older than the absolute session lifetime + grace.
   */
  async flushExpiredTokens(ctx: JobContext): Promise<Counts> {
    const now = ctx.clock.now();
    const cutoff = now - this.options.graceMs;
    const marksCutoff = cutoff - this.options.sessionAbsoluteMs;
    const tables: ExpiringTable[] = ['refresh_tokens', 'session_revocations'];
    const [tokens = 0, revocations = 0, marks = 0] = await Promise.all([
      ...tables.map((table) => this.repo.countExpired(table, cutoff)),
      this.repo.countStaleMarks(marksCutoff),
    ]);
    if (ctx.dryRun) {
      return { deleted: 0, would_delete: tokens + revocations + marks, refresh_tokens: tokens, session_revocations: revocations, revocation_marks: marks };
    }
    const total = tokens + revocations + marks;
    const counts: Record<string, number> = { deleted: 0 };
    for (const table of tables) {
      let from = 0;
      const deleted = await this.sweep(table, 'flush-expired-tokens', ctx, { total, offset: counts.deleted ?? 0 }, async () => {
        const batch = await this.repo.deleteExpired(table, cutoff, from, this.options.batchSize);
        from = batch.next ?? from;
        return { rows: batch.deleted, more: batch.next !== undefined };
      });
      counts[table] = deleted;
      counts.deleted = (counts.deleted ?? 0) + deleted;
    }
    const deletedMarks = await this.sweep('revocation_marks', 'flush-expired-tokens', ctx, { total, offset: counts.deleted ?? 0 }, async () => {
      const rows = await this.repo.deleteStaleMarks(marksCutoff, this.options.batchSize);
      return { rows, more: rows === this.options.batchSize };
    });
    counts.revocation_marks = deletedMarks;
    counts.deleted = (counts.deleted ?? 0) + deletedMarks;
    return counts;
  }

  /** Deletes sessions past idle or absolute expiry, or revoked longer ago than the grace. */
  async clearExpiredSessions(ctx: JobContext): Promise<Counts> {
    const now = ctx.clock.now();
    const revokedBefore = now - this.options.graceMs;
    let deleted = 0;
    await this.walkSessions('clear-expired-sessions', ctx, async (window) => {
      const rows = await this.repo.deleteEndedSessions(window, now, revokedBefore, ctx.dryRun);
      deleted += rows;
      return rows;
    });
    return ctx.dryRun ? { deleted: 0, would_delete: deleted } : { deleted };
  }

  /**
   * Revokes every live session except those of excluded users, and deletes
   * ended ones. The not-before marks go first, so every instance refuses the
   * old access tokens within a view refresh (~1 s) whatever the row count;
   * the batched walk then marks the rows (exact counts, session lists).
   */
  async logoutAllUsers(ctx: JobContext, extra: LogoutExclusions = { roles: [], emails: [] }): Promise<Counts> {
    const now = ctx.clock.now();
    const roles = [...new Set([...this.options.excludeRoles, ...extra.roles])];
    const emails = [...new Set([...this.options.excludeUsers, ...extra.emails].map((email) => email.trim().toLowerCase()))];
    const excludedUserIds = await this.repo.userIdsMatching(roles, emails);
    if (!ctx.dryRun) {
      await this.repo.markEveryoneLoggedOut(now, excludedUserIds, now, roles);
      await this.options.refreshRevocations?.();
    }
    let revoked = 0;
    let cleaned = 0;
    await this.walkSessions('logout-all-users', ctx, async (window) => {
      cleaned += await this.repo.deleteEndedSessions(window, now, now - this.options.graceMs, ctx.dryRun);
      const rows = await this.repo.revokeLiveSessions(window, { now, notAfter: now, excludedUserIds, reason: 'logout-all', dryRun: ctx.dryRun });
      revoked += rows;
      return rows;
    });
    return ctx.dryRun
      ? { revoked: 0, would_revoke: revoked, would_clean: cleaned, excluded_users: excludedUserIds.length }
      : { revoked, cleaned, excluded_users: excludedUserIds.length };
  }

  /** Keyset walk over the sessions primary key in windows of batchSize ids. */
  private async walkSessions(job: string, ctx: JobContext, act: (window: { after: string; upTo: string | undefined }) => Promise<number>): Promise<number> {
    const total = await this.repo.countSessions();
    let after = '';
    let acted = 0;
    let scanned = 0;
    // Progress counts ids scanned (total: the row count at the start); the sweep row records rows acted on.
    await this.sweep('sessions', job, ctx, { total, offset: 0, acted: () => acted }, async () => {
      const window = await this.repo.sessionWindow(after, this.options.batchSize);
      acted += await act(window);
      if (window.upTo === undefined) {
        const rest = Math.max(0, total - scanned);
        scanned += rest;
        return { rows: rest, more: false };
      }
      after = window.upTo;
      scanned += this.options.batchSize;
      return { rows: this.options.batchSize, more: true };
    });
    return acted;
  }

  /** runBatches plus the sweep bookkeeping row; rethrows the abort reason when cut short. */
  private async sweep(
    table: string,
    job: string,
    ctx: JobContext,
    progress: { total: number; offset: number; acted?: () => number },
    step: () => Promise<{ rows: number; more: boolean }>,
  ): Promise<number> {
    const startedAt = this.clock.now();
    const started = performance.now();
    let status = 'failed';
    let rows = 0;
    try {
      const result = await runBatches(step, { signal: ctx.signal, pauseMs: this.options.pauseMs, progress: ctx.progress, total: progress.total, offset: progress.offset });
      rows = progress.acted ? progress.acted() : result.rows;
      status = result.cancelled ? 'cancelled' : 'ok';
      if (result.cancelled) throw abortReason(ctx.signal);
      return rows;
    } finally {
      if (!ctx.dryRun) {
        const duration = Math.round(performance.now() - started);
        await this.repo
          .recordSweep({ table_name: table, job, started_at: startedAt, finished_at: startedAt + duration, duration_ms: duration, rows: progress.acted ? progress.acted() : rows, status })
          .catch(() => undefined);
      }
    }
  }
}
