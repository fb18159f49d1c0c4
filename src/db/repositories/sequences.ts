import { sql, type Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { SequenceStepsTable, SequencesTable } from '../schema/sequences.js';

export type SequenceRow = Selectable<SequencesTable>;
export type SequenceStepRow = Selectable<SequenceStepsTable>;

export interface StepValues {
  readonly delayMs: number;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
}

export interface SequenceValues {
  readonly key: string;
  readonly name: string;
  readonly active: boolean;
  readonly steps: readonly StepValues[];
}

/** Per-sequence counts for the admin list. */
export interface SequenceCounts {
  enrolled: number;
  active: number;
  completed: number;
  stopped: number;
  unsubscribed: number;
  sent: number;
  failed: number;
  unknown: number;
  due_now: number;
}

/** A sequence's counts plus its exact per-step funnel. */
export interface SequenceTally {
  readonly counts: SequenceCounts;
  /** Sends in state `sent` by step number (1-based); steps with none are absent. */
  readonly sentByStep: Map<number, number>;
}

const zeroCounts = (): SequenceCounts => ({ enrolled: 0, active: 0, completed: 0, stopped: 0, unsubscribed: 0, sent: 0, failed: 0, unknown: 0, due_now: 0 });

/** Data access for `sequences` and `sequence_steps`. Callers wrap writes that span both in a transaction. */
export class SequencesRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  async findByKey(key: string): Promise<SequenceRow | undefined> {
    return this.db.selectFrom('sequences').selectAll().where('key', '=', key).executeTakeFirst();
  }

  async list(): Promise<SequenceRow[]> {
    return this.db.selectFrom('sequences').selectAll().orderBy('key').execute();
  }

  async steps(sequenceId: number): Promise<SequenceStepRow[]> {
    return this.db.selectFrom('sequence_steps').selectAll().where('sequence_id', '=', sequenceId).orderBy('position').execute();
  }

  /** The bodies of steps by row id (the tick reads each step version once, not once per mail). */
  async stepBodies(ids: readonly number[]): Promise<Pick<SequenceStepRow, 'id' | 'updated_at' | 'subject' | 'text' | 'html'>[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('sequence_steps').select(['id', 'updated_at', 'subject', 'text', 'html']).where('id', 'in', ids).execute();
    return rows.map((row) => ({ ...row, id: Number(row.id), updated_at: Number(row.updated_at) }));
  }

  /** Inserts a sequence and its steps; undefined when the key is taken (decided by the unique index). */
  async insert(values: SequenceValues, now: number): Promise<number | undefined> {
    const row = await this.db
      .insertInto('sequences')
      .values({ key: values.key, name: values.name, active: values.active ? 1 : 0, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row === undefined) return undefined;
    await this.writeSteps(Number(row.id), values.steps, now);
    return Number(row.id);
  }

  /**
   * Updates name, flag and steps. Steps are identified by their number:
   * step N is updated in place, new numbers are added and numbers past the new
   * end removed, so an enrollment that passed step N never receives it again.
   */
  async update(id: number, values: SequenceValues, now: number): Promise<void> {
    await this.db
      .updateTable('sequences')
      .set({ name: values.name, active: values.active ? 1 : 0, updated_at: now })
      .where('id', '=', id)
      .execute();
    await this.db.deleteFrom('sequence_steps').where('sequence_id', '=', id).where('position', '>', values.steps.length).execute();
    await this.writeSteps(id, values.steps, now);
  }

  private async writeSteps(sequenceId: number, steps: readonly StepValues[], now: number): Promise<void> {
    if (steps.length === 0) return;
    await this.db
      .insertInto('sequence_steps')
      .values(
        steps.map((step, index) => ({
          sequence_id: sequenceId,
          position: index + 1,
          delay_ms: step.delayMs,
          subject: step.subject,
          text: step.text,
          html: step.html,
          updated_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['sequence_id', 'position']).doUpdateSet((eb) => ({
          delay_ms: eb.ref('excluded.delay_ms'),
          subject: eb.ref('excluded.subject'),
          text: eb.ref('excluded.text'),
          html: eb.ref('excluded.html'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('sequences').where('id', '=', id).execute();
  }

  /**
   * Counts per sequence id: enrollments by status, sends by state, steps due
   * now, and the exact number of sent sends of each step (the funnel).
   */
  async counts(now: number, sequenceId?: number): Promise<Map<number, SequenceTally>> {
    const result = new Map<number, SequenceTally>();
    const tally = (id: number) => {
      let found = result.get(id);
      if (found === undefined) result.set(id, (found = { counts: zeroCounts(), sentByStep: new Map() }));
      return found;
    };
    const entry = (id: number) => tally(id).counts;
    let enrollments = this.db
      .selectFrom('sequence_enrollments')
      .select(['sequence_id', 'status', sql<number>`count(*)`.as('n')])
      .groupBy(['sequence_id', 'status']);
    if (sequenceId !== undefined) enrollments = enrollments.where('sequence_id', '=', sequenceId);
    for (const row of await enrollments.execute()) {
      const counts = entry(Number(row.sequence_id));
      counts.enrolled += Number(row.n);
      counts[row.status] += Number(row.n);
    }
    // One grouped query gives the per-state totals and every step's exact sent count
    // (sequence_sends_sequence_idx serves the filter; a sequence has a handful of steps).
    let sends = this.db
      .selectFrom('sequence_sends')
      .select(['sequence_id', 'state', 'step', sql<number>`count(*)`.as('n')])
      .where('state', 'in', ['sent', 'failed', 'unknown'])
      .groupBy(['sequence_id', 'state', 'step']);
    if (sequenceId !== undefined) sends = sends.where('sequence_id', '=', sequenceId);
    for (const row of await sends.execute()) {
      const state = row.state as 'sent' | 'failed' | 'unknown';
      const found = tally(Number(row.sequence_id));
      found.counts[state] += Number(row.n);
      if (state === 'sent') found.sentByStep.set(Number(row.step), Number(row.n));
    }
    let dueEnrollments = this.db
      .selectFrom('sequence_enrollments')
      .select(['sequence_id', sql<number>`count(*)`.as('n')])
      .where('status', '=', 'active')
      .where('due_at', '<=', now)
      .groupBy('sequence_id');
    if (sequenceId !== undefined) dueEnrollments = dueEnrollments.where('sequence_id', '=', sequenceId);
    for (const row of await dueEnrollments.execute()) entry(Number(row.sequence_id)).due_now += Number(row.n);
    let dueSends = this.db
      .selectFrom('sequence_sends')
      .select(['sequence_id', sql<number>`count(*)`.as('n')])
      .where('state', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .groupBy('sequence_id');
    if (sequenceId !== undefined) dueSends = dueSends.where('sequence_id', '=', sequenceId);
    for (const row of await dueSends.execute()) entry(Number(row.sequence_id)).due_now += Number(row.n);
    return result;
  }
}
