import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { Database, Storage } from '../database.js';
import type { MailOutboxTable, MailStatus } from '../schema/accounts.js';

export type MailOutboxRow = Selectable<MailOutboxTable>;

export interface NewOutboxMail {
  recipient: string;
  subject: string;
  text: string;
  html: string | null;
  now: number;
}

export interface ClaimOptions {
  now: number;
  /** The claiming instance, stored in locked_by. */
  holder: string;
  /** How long the claim holds, in ms. */
  leaseMs: number;
  limit: number;
}

/**
 * A row is due when it is pending and its time has come. A claim that went
 * stale (its sender died mid-send) is not due: expireStale moves it to
 * `unknown`, because the message may have reached the server.
 */
function due(now: number) {
  return (eb: ExpressionBuilder<Database, 'mail_outbox'>) => eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', now)]);
}

/** Data access for `mail_outbox`. */
export class MailOutboxRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  /** Inserts a pending row, due at once; returns its id. */
  async insert(mail: NewOutboxMail): Promise<number> {
    const row = await this.db
      .insertInto('mail_outbox')
      .values({
        recipient: mail.recipient,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        status: 'pending',
        attempts: 0,
        next_attempt_at: mail.now,
        created_at: mail.now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * Claims up to `limit` due rows for `holder`: status becomes `sending`,
   * attempts + 1, locked until now + leaseMs. Race-safe: under concurrent calls
   * (several instances) a row is returned to exactly one caller, because the
   * UPDATE re-checks the due condition on the row it changes (PostgreSQL
   * re-evaluates it after waiting for a competing writer; SQLite has one
   * writer). On PostgreSQL, SKIP LOCKED lets competing claimers take other rows
   * instead of queueing behind each other.
   */
  async claimDue(options: ClaimOptions): Promise<MailOutboxRow[]> {
    const { now } = options;
    let candidates = this.db.selectFrom('mail_outbox').select('id').where(due(now)).orderBy('next_attempt_at').orderBy('id').limit(options.limit);
    if (this.storage.engine === 'postgres') candidates = candidates.forUpdate().skipLocked();
    return this.db
      .updateTable('mail_outbox')
      .set((eb) => ({
        status: 'sending' as MailStatus,
        attempts: eb('attempts', '+', 1),
        locked_by: options.holder,
        locked_until: now + options.leaseMs,
      }))
      .where('id', 'in', candidates)
      .where(due(now))
      .returningAll()
      .execute();
  }

  /**
   * Marks a claimed row sent and empties its body: the outbox is a queue, not
   * an archive, and bodies carry links (activation tokens) that must not
   * outlive delivery in the database. False when the claim was lost (another
   * instance took the row over and it is no longer sending or unknown).
   */
  async markSent(id: number, holder: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mail_outbox')
      .set({ status: 'sent', sent_at: now, locked_by: null, locked_until: null, last_error: null, text: '', html: null })
      .where('id', '=', id)
      // A claim that expired meanwhile made the row `unknown`; the server's answer settles it.
      .where((eb) => eb.or([eb.and([eb('status', '=', 'sending'), eb('locked_by', '=', holder)]), eb('status', '=', 'unknown')]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records a failed attempt on a claimed row: back to `pending` at
   * `nextAttemptAt`, or `failed` for good when nextAttemptAt is null.
   */
  async markAttemptFailed(id: number, holder: string, failure: { error: string; nextAttemptAt: number | null }): Promise<boolean> {
    const result = await this.db
      .updateTable('mail_outbox')
      .set({
        status: failure.nextAttemptAt === null ? 'failed' : 'pending',
        ...(failure.nextAttemptAt === null ? {} : { next_attempt_at: failure.nextAttemptAt }),
        locked_by: null,
        locked_until: null,
        last_error: failure.error,
      })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('locked_by', '=', holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Records that a claimed row's delivery ended without an answer after the
   * data went out: `unknown`, never retried automatically. False when the claim was lost.
   */
  async markUnknown(id: number, holder: string, error: string): Promise<boolean> {
    const result = await this.db
      .updateTable('mail_outbox')
      .set({ status: 'unknown', locked_by: null, locked_until: null, last_error: error })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('locked_by', '=', holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Rows left `sending` past their lease (their sender was killed mid-send)
   * become `unknown`, not pending again: the message may have been delivered.
   * Returns how many moved.
   */
  async expireStale(now: number): Promise<number> {
    const result = await this.db
      .updateTable('mail_outbox')
      .set({ status: 'unknown', locked_by: null, locked_until: null, last_error: 'the sender stopped while sending (lease expired); delivery unknown' })
      .where('status', '=', 'sending')
      .where('locked_until', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Rows in `unknown`, oldest first (operators). */
  async listUnknown(limit: number): Promise<MailOutboxRow[]> {
    return this.db.selectFrom('mail_outbox').selectAll().where('status', '=', 'unknown').orderBy('id').limit(limit).execute();
  }

  /**
   * An operator's verdict on an `unknown` row: `sent` closes it, `retry`
   * makes it pending again now. False when the row is not `unknown`.
   */
  async resolveUnknown(id: number, outcome: 'sent' | 'retry', now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mail_outbox')
      .set(outcome === 'sent' ? { status: 'sent', sent_at: now, text: '', html: null } : { status: 'pending', next_attempt_at: now })
      .where('id', '=', id)
      .where('status', '=', 'unknown')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Row counts by status (operators, tests). */
  async countByStatus(): Promise<Record<MailStatus, number>> {
    const rows = await this.db
      .selectFrom('mail_outbox')
      .select(['status', sql<number>`count(*)`.as('count')])
      .groupBy('status')
      .execute();
    const counts: Record<MailStatus, number> = { pending: 0, sending: 0, sent: 0, failed: 0, unknown: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }
}
