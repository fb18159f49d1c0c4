import { randomBytes } from 'node:crypto';
import type { App } from '../../src/app.js';
import type { JobContext, Progress } from '../../src/jobs/types.js';

const DAY = 86_400_000;

/** Inserts a session row directly (bulk data for the jobs); returns its id. */
export async function insertSession(
  app: App,
  row: { userId: number; createdAt: number; idleExpiresAt?: number; absoluteExpiresAt?: number; revokedAt?: number | null },
): Promise<string> {
  const id = randomBytes(18).toString('base64url');
  await app.services.storage.db
    .insertInto('sessions')
    .values({
      id,
      user_id: row.userId,
      user_agent: 'test',
      ip: '127.0.0.1',
      created_at: row.createdAt,
      last_seen_at: row.createdAt,
      idle_expires_at: row.idleExpiresAt ?? row.createdAt + 7 * DAY,
      absolute_expires_at: row.absoluteExpiresAt ?? row.createdAt + 30 * DAY,
      revoked_at: row.revokedAt ?? null,
      revoked_reason: row.revokedAt === undefined || row.revokedAt === null ? null : 'test',
    })
    .execute();
  return id;
}

/** Inserts a refresh-token row for a session with the given expiry. */
export async function insertToken(app: App, sessionId: string, userId: number, expiresAt: number): Promise<void> {
  await app.services.storage.db
    .insertInto('refresh_tokens')
    .values({ token_hash: randomBytes(16).toString('hex'), session_id: sessionId, user_id: userId, created_at: expiresAt - DAY, expires_at: expiresAt })
    .execute();
}

export async function countRows(app: App, table: 'sessions' | 'refresh_tokens' | 'session_revocations'): Promise<number> {
  const row = await app.services.storage.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * A job context whose signal aborts once `abortAfter` progress reports have
 * arrived (mid-run, at a batch boundary), like a timeout would.
 */
export function jobContext(app: App, options: { dryRun?: boolean; abortAfter?: number } = {}): { ctx: JobContext; reports: Progress[] } {
  const controller = new AbortController();
  const reports: Progress[] = [];
  const ctx: JobContext = {
    dryRun: options.dryRun ?? false,
    signal: controller.signal,
    progress(update) {
      reports.push(update);
      if (options.abortAfter !== undefined && reports.length >= options.abortAfter) controller.abort(new Error('test cancel'));
    },
    clock: app.clock,
    scheduledFor: null,
    runId: 0,
    params: {},
  };
  return { ctx, reports };
}
