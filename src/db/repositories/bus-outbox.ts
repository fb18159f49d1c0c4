import type { Kysely, Selectable } from 'kysely';
import type { BusEvent } from '../../bus/events.js';
import type { Database, Storage } from '../database.js';
import type { BusOutboxTable } from '../schema/bus.js';

export type BusOutboxRow = Selectable<BusOutboxTable>;

/**
 * Writes bus events into `bus_outbox` inside the caller's transaction, so an
 * event exists exactly when its change committed. Repositories that change
 * sessions, revocation marks or keys take one (default: noEvents).
 */
export interface EventRecorder {
  /** Adds the events through `db` (a transaction or the plain handle). */
  record(db: Kysely<Database>, events: readonly BusEvent[], now: number): Promise<void>;
  /** Tells the publisher that a transaction holding events has committed. */
  committed(): void;
}

/** The recorder when BUS_URL is unset: nothing is written. */
export const noEvents: EventRecorder = {
  async record() {},
  committed() {},
};

/** The recorder when the bus is on: rows in `bus_outbox`, and a wake-up for the publisher. */
export class OutboxRecorder implements EventRecorder {
  private readonly listeners: Array<() => void> = [];

  async record(db: Kysely<Database>, events: readonly BusEvent[], now: number): Promise<void> {
    if (events.length === 0) return;
    await db
      .insertInto('bus_outbox')
      .values(events.map((event) => ({ subject: event.subject, payload: JSON.stringify(event.payload), created_at: now })))
      .execute();
  }

  committed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every commit that recorded events. */
  onCommit(listener: () => void): void {
    this.listeners.push(listener);
  }
}

/** Data access for `bus_outbox` (the publisher's side). */
export class BusOutboxRepository {
  constructor(private readonly storage: Storage) {}

  /**
   * Claims up to `limit` rows, oldest first, for `leaseMs`. Race-safe: under
   * concurrent calls from several instances a row goes to exactly one caller
   * (the UPDATE re-checks the claim condition on the row it changes; SKIP
   * LOCKED on PostgreSQL lets the others take other rows).
   */
  async claim(now: number, leaseMs: number, limit: number): Promise<BusOutboxRow[]> {
    let candidates = this.storage.db
      .selectFrom('bus_outbox')
      .select('id')
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .orderBy('id')
      .limit(limit);
    if (this.storage.engine === 'postgres') candidates = candidates.forUpdate().skipLocked();
    const rows = await this.storage.db
      .updateTable('bus_outbox')
      .set((eb) => ({ claimed_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', candidates)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .returningAll()
      .execute();
    return rows.map((row) => ({ ...row, id: Number(row.id), created_at: Number(row.created_at) })).sort((a, b) => a.id - b.id);
  }

  /** Deletes published rows. */
  async delete(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.storage.db.deleteFrom('bus_outbox').where('id', 'in', [...ids]).execute();
  }

  /** Gives claimed rows back at once (the bus refused them), so the next pass retries. */
  async release(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.storage.db.updateTable('bus_outbox').set({ claimed_until: null }).where('id', 'in', [...ids]).execute();
  }

  /** Rows waiting (for /ready, metrics and tests). */
  async pending(): Promise<number> {
    const row = await this.storage.db.selectFrom('bus_outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
