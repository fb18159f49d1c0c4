import { sql, type Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { SendState, SequenceSendsTable } from '../schema/sequences.js';
import { guardColumn } from '../guard-column.js';
import { transaction } from '../transaction.js';

export type SendRow = Selectable<SequenceSendsTable>;

/** A claimed send with everything the re-check and the message need. */
export interface SendDetails {
  id: number;
  enrollment_id: number;
  step: number;
  attempts: number;
  enrollment_status: string;
  next_step: number;
  sequence_key: string;
  sequence_active: number;
  user_id: number;
  email: string;
  profile: string;
  activated_at: number | null;
  /** The step's row (null when the step was removed); its bodies are read once per step version (SequencesRepository.stepBodies). */
  step_id: number | null;
  step_updated_at: number | null;
  suppressed: string | null;
}

/** A send as operators list it. */
export interface SendListRow extends SendRow {
  sequence_key: string;
  email: string;
}

/** Data access for `sequence_sends`, the exactly-once send ledger. */
export class SequenceSendsRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  /**
   * `state` as the guard of a statement that finds its sends by id: on SQLite
   * the planner otherwise went through an index led by `state`, visiting every
   * send in that state (every `sending` and `unknown` row, for `markSent`)
   * instead of the ids (see guardColumn).
   */
  private get state() {
    return guardColumn<SendState>(this.storage.engine, 'state');
  }

  /**
   * Writes a `queued` send row for up to `limit` due enrollments (active, in
   * an active sequence, with the step they wait for) and marks those
   * enrollments as waiting (due_at null), in one transaction. Race-safe: the
   * unique (enrollment, step) key means a second tick, instance or caller
   * that reaches the same step inserts nothing; on PostgreSQL the due rows
   * are locked with SKIP LOCKED so concurrent instances take different ones.
   * Returns how many rows were written.
   */
  async enqueueDue(now: number, limit: number): Promise<number> {
    return transaction(this.storage, async (tx) => {
      let due = dueScan(tx, now, limit)
        .select([
          'e.id',
          'e.sequence_id',
          'e.next_step',
          sql<SendState>`'queued'`.as('state'),
          sql<number>`0`.as('attempts'),
          sql<number>`${sql.val(now)}`.as('next_attempt_at'),
          sql<number>`${sql.val(now)}`.as('created_at'),
          sql<number>`${sql.val(now)}`.as('updated_at'),
        ]);
      if (tx.engine === 'postgres') due = due.forUpdate('e').skipLocked();
      const inserted = await tx.db
        .insertInto('sequence_sends')
        .columns(['enrollment_id', 'sequence_id', 'step', 'state', 'attempts', 'next_attempt_at', 'created_at', 'updated_at'])
        .expression(due)
        .onConflict((oc) => oc.columns(['enrollment_id', 'step']).doNothing())
        .returning('enrollment_id')
        .execute();
      const ids = inserted.map((row) => Number(row.enrollment_id));
      if (ids.length > 0) {
        await tx.db.updateTable('sequence_enrollments').set({ due_at: null, updated_at: now }).where('id', 'in', ids).execute();
      }
      return ids.length;
    });
  }

  /**
   * Claims up to `limit` due steps straight into the ledger: one `sending` row
   * per due enrollment (attempts 1, leased to `holder` until now + leaseMs,
   * the address it goes to), and those enrollments marked waiting (due_at
   * null), in one transaction, so a fresh step costs one row write instead of
   * an insert and a claim. Race-safe like `enqueueDue`: the unique
   * (enrollment, step) key lets a second tick, instance or caller insert
   * nothing, and PostgreSQL skips due rows another claimer has locked.
   * `between` (optional) runs between the statements and before the commit:
   * the sender gives the event loop a turn there, since SQLite runs each
   * statement synchronously. Returns the claimed send ids.
   */
  async claimDue(options: { now: number; holder: string; leaseMs: number; limit: number; between?: () => Promise<void> }): Promise<number[]> {
    const { now } = options;
    return transaction(this.storage, async (tx) => {
      let due = dueScan(tx, now, options.limit)
        .select([
          'e.id',
          'e.sequence_id',
          'e.next_step',
          sql<SendState>`'sending'`.as('state'),
          sql<number>`1`.as('attempts'),
          sql<number>`${sql.val(now)}`.as('next_attempt_at'),
          sql<string>`${sql.val(options.holder)}`.as('locked_by'),
          sql<number>`${sql.val(now + options.leaseMs)}`.as('lease_until'),
          'u.email',
          sql<number>`${sql.val(now)}`.as('created_at'),
          sql<number>`${sql.val(now)}`.as('updated_at'),
        ]);
      if (tx.engine === 'postgres') due = due.forUpdate('e').skipLocked();
      const inserted = await tx.db
        .insertInto('sequence_sends')
        .columns(['enrollment_id', 'sequence_id', 'step', 'state', 'attempts', 'next_attempt_at', 'locked_by', 'lease_until', 'recipient', 'created_at', 'updated_at'])
        .expression(due)
        .onConflict((oc) => oc.columns(['enrollment_id', 'step']).doNothing())
        .returning(['id', 'enrollment_id'])
        .execute();
      if (inserted.length > 0) {
        await options.between?.();
        await tx.db
          .updateTable('sequence_enrollments')
          .set({ due_at: null, updated_at: now })
          .where(
            'id',
            'in',
            inserted.map((row) => Number(row.enrollment_id)),
          )
          .execute();
        await options.between?.();
      }
      return inserted.map((row) => Number(row.id));
    });
  }

  /**
   * Hands claimed sends that never reached the mail server back to `queued`
   * (the tick stopped before their turn), as if the claim had not happened.
   * Only rows this holder still has `sending` move.
   */
  async release(ids: readonly number[], holder: string, now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('sequence_sends')
      .set((eb) => ({ state: 'queued' as SendState, attempts: eb('attempts', '-', 1), locked_by: null, lease_until: null, next_attempt_at: now, updated_at: now }))
      .where('id', 'in', ids)
      .where(this.state, '=', 'sending')
      .where('locked_by', '=', holder)
      .execute();
  }

  /**
   * Claims up to `limit` queued sends that are due: state `sending`, attempts
   * + 1, leased to `holder` until now + leaseMs. Race-safe: under concurrent
   * calls a row goes to exactly one caller (the UPDATE re-checks `queued`;
   * PostgreSQL skips rows another claimer holds, SQLite has one writer).
   */
  async claim(options: { now: number; holder: string; leaseMs: number; limit: number }): Promise<number[]> {
    const { now } = options;
    let candidates = this.db
      .selectFrom('sequence_sends')
      .select('id')
      .where('state', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(options.limit);
    if (this.storage.engine === 'postgres') candidates = candidates.forUpdate().skipLocked();
    const rows = await this.db
      .updateTable('sequence_sends')
      .set((eb) => ({
        state: 'sending' as SendState,
        attempts: eb('attempts', '+', 1),
        locked_by: options.holder,
        lease_until: now + options.leaseMs,
        updated_at: now,
        // Raw SQL: a correlated subquery on the updated row (the address this attempt goes to).
        recipient: sql<string>`(select u.email from sequence_enrollments e join users u on u.id = e.user_id where e.id = sequence_sends.enrollment_id)`,
      }))
      .where('id', 'in', candidates)
      .where(this.state, '=', 'queued')
      .returning('id')
      .execute();
    return rows.map((row) => Number(row.id));
  }

  /** The re-check before delivery: each claimed send with its enrollment, user, step (not its bodies) and suppression. */
  async details(ids: readonly number[]): Promise<SendDetails[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('sequence_sends as s')
      .innerJoin('sequence_enrollments as e', 'e.id', 's.enrollment_id')
      .innerJoin('sequences as q', 'q.id', 's.sequence_id')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .leftJoin('sequence_steps as st', (join) => join.onRef('st.sequence_id', '=', 's.sequence_id').onRef('st.position', '=', 's.step'))
      .leftJoin('mail_suppressions as m', 'm.email', 'u.email')
      .select([
        's.id',
        's.enrollment_id',
        's.step',
        's.attempts',
        'e.status as enrollment_status',
        'e.next_step',
        'q.key as sequence_key',
        'q.active as sequence_active',
        'u.id as user_id',
        'u.email',
        'u.profile',
        'u.activated_at',
        'st.id as step_id',
        'st.updated_at as step_updated_at',
        'm.reason as suppressed',
      ])
      .where('s.id', 'in', ids)
      .execute();
    return rows.map((row) => ({ ...row, id: Number(row.id), enrollment_id: Number(row.enrollment_id), user_id: Number(row.user_id), step_id: row.step_id === null ? null : Number(row.step_id) }));
  }

  /**
   * Marks delivered sends `sent` and returns their enrollment ids. A row whose
   * lease expired meanwhile (another instance made it `unknown`) is settled
   * as sent too: the server's answer is the better knowledge.
   */
  async markSent(ids: readonly number[], holder: string, now: number): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .updateTable('sequence_sends')
      .set({ state: 'sent', sent_at: now, locked_by: null, lease_until: null, last_error: null, response_code: null, updated_at: now })
      .where('id', 'in', ids)
      .where((eb) => eb.or([eb.and([eb(this.state, '=', 'sending'), eb('locked_by', '=', holder)]), eb(this.state, '=', 'unknown')]))
      .returning('enrollment_id')
      .execute();
    return rows.map((row) => Number(row.enrollment_id));
  }

  /** Records a final or retryable outcome on one claimed send; false when the claim was lost. */
  async settle(
    id: number,
    holder: string,
    outcome: { state: 'queued' | 'failed' | 'unknown'; error: string; responseCode: number | null; nextAttemptAt?: number; recipient: string },
    now: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('sequence_sends')
      .set({
        state: outcome.state,
        last_error: outcome.error,
        response_code: outcome.responseCode,
        recipient: outcome.recipient,
        locked_by: null,
        lease_until: null,
        updated_at: now,
        ...(outcome.nextAttemptAt === undefined ? {} : { next_attempt_at: outcome.nextAttemptAt }),
      })
      .where('id', '=', id)
      .where('state', '=', 'sending')
      .where('locked_by', '=', holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Claimed sends the re-check stopped: `skipped`, with the reason. */
  async markSkipped(ids: readonly number[], holder: string, reason: string, now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('sequence_sends')
      .set({ state: 'skipped', last_error: reason, locked_by: null, lease_until: null, updated_at: now })
      .where('id', 'in', ids)
      .where(this.state, '=', 'sending')
      .where('locked_by', '=', holder)
      .execute();
  }

  /** Claimed sends whose sequence was switched off: the row goes away (nothing was sent) and the enrollment is due again. */
  async unqueue(ids: readonly number[], enrollmentIds: readonly number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await transaction(this.storage, async (tx) => {
      await tx.db.deleteFrom('sequence_sends').where('id', 'in', ids).where(guardColumn<SendState>(tx.engine, 'state'), '=', 'sending').execute();
      await tx.db
        .updateTable('sequence_enrollments')
        .set({ due_at: now, updated_at: now })
        .where('id', 'in', enrollmentIds)
        .where(guardColumn<string>(tx.engine, 'status'), '=', 'active')
        .execute();
    });
  }

  /**
   * Sends left `sending` past their lease (the process was killed mid-send)
   * become `unknown`, never `queued`: the message may have been delivered.
   * Returns how many.
   */
  async expireStale(now: number): Promise<number> {
    const result = await this.db
      .updateTable('sequence_sends')
      .set({ state: 'unknown', locked_by: null, lease_until: null, last_error: 'the sender stopped while sending (lease expired); delivery unknown', updated_at: now })
      .where('state', '=', 'sending')
      .where('lease_until', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async findById(id: number): Promise<SendRow | undefined> {
    return this.db.selectFrom('sequence_sends').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Sends, newest first, optionally by state and sequence key. */
  async list(filter: { state?: SendState; sequenceKey?: string; limit: number }): Promise<SendListRow[]> {
    let query = this.db
      .selectFrom('sequence_sends as s')
      .innerJoin('sequences as q', 'q.id', 's.sequence_id')
      .innerJoin('sequence_enrollments as e', 'e.id', 's.enrollment_id')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .selectAll('s')
      .select(['q.key as sequence_key', 'u.email'])
      .orderBy('s.id', 'desc')
      .limit(filter.limit);
    if (filter.state !== undefined) query = query.where('s.state', '=', filter.state);
    if (filter.sequenceKey !== undefined) query = query.where('q.key', '=', filter.sequenceKey);
    return query.execute();
  }

  /**
   * An operator's verdict on an `unknown` send: `sent` closes it (the
   * enrollment moves on), `retry` queues it again now. Returns the row before
   * the change, or undefined when it is not `unknown`.
   */
  async resolveUnknown(id: number, outcome: 'sent' | 'retry', now: number): Promise<SendRow | undefined> {
    const row = await this.db
      .updateTable('sequence_sends')
      .set(outcome === 'sent' ? { state: 'sent', sent_at: now, updated_at: now } : { state: 'queued', next_attempt_at: now, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'unknown')
      .returningAll()
      .executeTakeFirst();
    return row;
  }

  /** Counts by state. */
  async countByState(): Promise<Record<SendState, number>> {
    const counts: Record<SendState, number> = { queued: 0, sending: 0, sent: 0, failed: 0, unknown: 0, skipped: 0 };
    const rows = await this.db.selectFrom('sequence_sends').select(['state', sql<number>`count(*)`.as('n')]).groupBy('state').execute();
    for (const row of rows) counts[row.state] = Number(row.n);
    return counts;
  }

  /**
   * Steps due and not yet sent: active enrollments in active sequences whose
   * next step is due, plus queued sends whose time has come; and the oldest due time.
   */
  async backlog(now: number): Promise<{ due: number; oldestDueAt: number | null }> {
    const enrollments = await this.db
      .selectFrom('sequence_enrollments as e')
      .innerJoin('sequences as q', 'q.id', 'e.sequence_id')
      .select([sql<number>`count(*)`.as('n'), sql<number | null>`min(e.due_at)`.as('oldest')])
      .where('e.status', '=', 'active')
      .where('e.due_at', '<=', now)
      .where('q.active', '=', 1)
      .executeTakeFirstOrThrow();
    const sends = await this.db
      .selectFrom('sequence_sends')
      .select([sql<number>`count(*)`.as('n'), sql<number | null>`min(created_at)`.as('oldest')])
      .where('state', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .executeTakeFirstOrThrow();
    const oldest = [enrollments.oldest, sends.oldest].filter((value): value is number => value !== null).map(Number);
    return { due: Number(enrollments.n) + Number(sends.n), oldestDueAt: oldest.length === 0 ? null : Math.min(...oldest) };
  }

  /** What a tick would send now (dry run): due steps with the recipient, oldest first. */
  async preview(now: number, limit: number): Promise<{ sequence_key: string; step: number; email: string; subject: string }[]> {
    return this.db
      .selectFrom('sequence_enrollments as e')
      .innerJoin('sequences as q', 'q.id', 'e.sequence_id')
      .innerJoin('sequence_steps as st', (join) => join.onRef('st.sequence_id', '=', 'e.sequence_id').onRef('st.position', '=', 'e.next_step'))
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .select(['q.key as sequence_key', 'e.next_step as step', 'u.email', 'st.subject'])
      .where('e.status', '=', 'active')
      .where('e.due_at', '<=', now)
      .where('q.active', '=', 1)
      .orderBy('e.due_at')
      .limit(limit)
      .execute();
  }
}

/**
 * Due enrollments, oldest first: active, in an active sequence, with the step
 * they wait for, joined to their user (the address a claim records).
 */
function dueScan(tx: Storage, now: number, limit: number) {
  return tx.db
    .selectFrom('sequence_enrollments as e')
    .innerJoin('sequences as q', 'q.id', 'e.sequence_id')
    .innerJoin('sequence_steps as st', (join) => join.onRef('st.sequence_id', '=', 'e.sequence_id').onRef('st.position', '=', 'e.next_step'))
    .innerJoin('users as u', 'u.id', 'e.user_id')
    .where('e.status', '=', 'active')
    .where('e.due_at', '<=', now)
    .where('q.active', '=', 1)
    .orderBy('e.due_at')
    .limit(limit);
}
