import type { Kysely, Selectable } from 'kysely';
import type { BusEvent } from '../../bus/events.js';
import type { Database, Storage } from '../database.js';
import type { BusOutboxTable } from '../schema/bus.js';

export type BusOutboxRow = Selectable<BusOutboxTable>;

/** What one transaction recorded: its outbox rows, handed to the publisher once it committed. */
export interface RecordedEvents {
  readonly rows: readonly BusOutboxRow[];
}

const NOTHING: RecordedEvents = { rows: [] };

/**
 * Writes bus events into `bus_outbox` inside the caller's transaction, so an
 * event exists exactly when its change committed. Repositories that change
 * sessions, revocation marks or keys take one (default: noEvents). The
 * pattern: `const recorded = await db.transaction().execute(async (trx) => {
 * ...; return events.record(trx, [event], now); }); events.committed(recorded);`
 */
export interface EventRecorder {
  /** Adds the events through `db` (a transaction or the plain handle); pass the result to committed() after the commit. */
  record(db: Kysely<Database>, events: readonly BusEvent[], now: number): Promise<RecordedEvents>;
  /** Tells the publisher that the transaction holding `recorded` has committed: it sends them now. */
  committed(recorded: RecordedEvents): void;
}

/** The recorder when BUS_URL is unset: nothing is written. */
export const noEvents: EventRecorder = {
  async record() {
    return NOTHING;
  },
  committed() {},
};

/** The publisher's side of the recorder (src/bus/outbox-publisher.ts). */
export interface CommitListener {
  /**
   * How long rows recorded now are claimed for sending right after their
   * commit, or undefined when that send cannot happen (bus down, publisher
   * stopped): such rows are left unclaimed for the publisher's pass.
   */
  claimMs(): number | undefined;
  /** The rows of a transaction that committed. */
  committed(rows: readonly BusOutboxRow[]): void;
}

const toRow = (row: BusOutboxRow): BusOutboxRow => ({ ...row, id: Number(row.id), created_at: Number(row.created_at), claimed_until: row.claimed_until === null ? null : Number(row.claimed_until) });

/**
 * The recorder when the bus is on: rows in `bus_outbox`, claimed at insert by
 * this instance when it can send them at once, so the send after the commit
 * needs no query (and no other instance's poll takes them meanwhile).
 */
export class OutboxRecorder implements EventRecorder {
  private listener: CommitListener | undefined;

  async record(db: Kysely<Database>, events: readonly BusEvent[], now: number): Promise<RecordedEvents> {
    if (events.length === 0) return NOTHING;
    const claimMs = this.listener?.claimMs();
    const rows = await db
      .insertInto('bus_outbox')
      .values(
        events.map((event) => ({
          subject: event.subject,
          payload: JSON.stringify(event.payload),
          created_at: now,
          claimed_until: claimMs === undefined ? null : now + claimMs,
          attempts: claimMs === undefined ? 0 : 1,
        })),
      )
      .returningAll()
      .execute();
    return { rows: rows.map(toRow) };
  }

  committed(recorded: RecordedEvents): void {
    if (recorded.rows.length > 0) this.listener?.committed(recorded.rows);
  }

  /** Hands every committed transaction's rows to `listener` (one: the publisher). */
  listen(listener: CommitListener): void {
    this.listener = listener;
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
    return rows.map(toRow).sort((a, b) => a.id - b.id);
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
