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

/** A row is due when it is pending and its time has come, or its claim went stale. */
function due(now: number) {
  return (eb: ExpressionBuilder<Database, 'mail_outbox'>) =>
    eb.or([
      eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', now)]),
      eb.and([eb('status', '=', 'sending'), eb('locked_until', '<=', now)]),
    ]);
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
   * instance took the row over).
   */
  async markSent(id: number, holder: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mail_outbox')
      .set({ status: 'sent', sent_at: now, locked_by: null, locked_until: null, last_error: null, text: '', html: null })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('locked_by', '=', holder)
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

  /** Row counts by status (operators, tests). */
  async countByStatus(): Promise<Record<MailStatus, number>> {
    const rows = await this.db
      .selectFrom('mail_outbox')
      .select(['status', sql<number>`count(*)`.as('count')])
      .groupBy('status')
      .execute();
    const counts: Record<MailStatus, number> = { pending: 0, sending: 0, sent: 0, failed: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }
}
