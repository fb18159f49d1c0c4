import { sql, type Selectable } from 'kysely';
import type { Storage } from '../database.js';
import { guardColumn } from '../guard-column.js';
import type { SequenceEnrollmentsTable } from '../schema/sequences.js';

export type EnrollmentRow = Selectable<SequenceEnrollmentsTable>;

/** An enrollment as operators list it: with the address and its last send. */
export interface EnrollmentListRow extends EnrollmentRow {
  email: string;
}

/** Data access for `sequence_enrollments`. */
export class SequenceEnrollmentsRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  /**
   * Enrolls a user at step 1, due at `dueAt`. Idempotent and race-safe: the
   * unique (sequence, user) index decides; `created` is false when the user
   * was enrolled already (the existing row is returned).
   */
  async enroll(sequenceId: number, userId: number, dueAt: number, now: number): Promise<{ row: EnrollmentRow; created: boolean }> {
    const inserted = await this.db
      .insertInto('sequence_enrollments')
      .values({ sequence_id: sequenceId, user_id: userId, status: 'active', next_step: 1, due_at: dueAt, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['sequence_id', 'user_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted !== undefined) return { row: inserted, created: true };
    const existing = await this.db
      .selectFrom('sequence_enrollments')
      .selectAll()
      .where('sequence_id', '=', sequenceId)
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return { row: existing, created: false };
  }

  async findById(id: number): Promise<EnrollmentRow | undefined> {
    return this.db.selectFrom('sequence_enrollments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A sequence's enrollments with the user's address, newest first. */
  async list(sequenceId: number, limit: number, offset: number): Promise<EnrollmentListRow[]> {
    return this.db
      .selectFrom('sequence_enrollments as e')
      .innerJoin('users as u', 'u.id', 'e.user_id')
      .selectAll('e')
      .select('u.email')
      .where('e.sequence_id', '=', sequenceId)
      .orderBy('e.id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
  }

  /** Stops an enrollment (no further steps). False when it was not active. */
  async stop(id: number, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sequence_enrollments')
      .set({ status: 'stopped', due_at: null, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Every active enrollment of the user becomes `unsubscribed`; returns how many. */
  async unsubscribeUser(userId: number, now: number): Promise<number> {
    const result = await this.db
      .updateTable('sequence_enrollments')
      .set({ status: 'unsubscribed', due_at: null, updated_at: now })
      .where('user_id', '=', userId)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Active enrollments of a sequence (deleting it needs ?force=1 while there are any). */
  async countActive(sequenceId: number): Promise<number> {
    const row = await this.db
      .selectFrom('sequence_enrollments')
      .select(sql<number>`count(*)`.as('n'))
      .where('sequence_id', '=', sequenceId)
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Moves enrollments past the step they were waiting on: step N+1 becomes
   * due `now` + its delay, or the enrollment is `completed` when there is no
   * step N+1. Only active enrollments move. Finds the rows by id, not by
   * status (see guardColumn): by status it visited every active enrollment.
   */
  async advance(ids: readonly number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    // Raw SQL: a correlated subquery on the updated row's own columns (both engines read the old values).
    const nextStep = sql`(select st.delay_ms from sequence_steps st where st.sequence_id = sequence_enrollments.sequence_id and st.position = sequence_enrollments.next_step + 1)`;
    await this.db
      .updateTable('sequence_enrollments')
      .set({
        due_at: sql<number | null>`${sql.val(now)} + ${nextStep}`,
        status: sql<'active' | 'completed'>`case when ${nextStep} is null then 'completed' else 'active' end`,
        next_step: sql<number>`next_step + 1`,
        updated_at: now,
      })
      .where('id', 'in', ids)
      .where(guardColumn<string>(this.storage.engine, 'status'), '=', 'active')
      .execute();
  }
}
