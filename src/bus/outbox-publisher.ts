import type { Clock } from '../clock.js';
import type { BusOutboxRow, CommitListener } from '../db/repositories/bus-outbox.js';
import type { Logger } from '../logger.js';
import type { BusTransport } from './transport.js';

/** The publisher's view of the outbox (BusOutboxRepository). */
export interface OutboxStore {
  claim(now: number, leaseMs: number, limit: number): Promise<BusOutboxRow[]>;
  delete(ids: readonly number[]): Promise<void>;
  release(ids: readonly number[]): Promise<void>;
}

export interface OutboxPublisherOptions {
  /** BUS_OUTBOX_POLL_MS (default 1000): how often rows written by other processes (the CLI) are looked for. */
  readonly pollMs: number;
  /**
   * How long a claim holds before another instance may publish the row
   * (default 30 000 ms): also the longest an event committed here waits when
   * this process dies between the commit and its send.
   */
  readonly leaseMs?: number;
  /** Rows per claim (default 100). */
  readonly batchSize?: number;
  /**
   * BUS_SUBJECT_PREFIX: replaces the leading `curfew` of stored subjects
   * (default `curfew`, stored subjects unchanged).
   */
  readonly subjectPrefix?: string;
  /** Called with the number of events each pass published (metrics). */
  readonly onPublished?: (count: number) => void;
}

const encoder = new TextEncoder();

const messageId = (row: BusOutboxRow) => `curfew-${row.created_at}-${row.id}`;

/**
 * Hands outbox rows to the bus after their transaction committed. Two paths:
 *
 * - **Direct** (the fast one): while connected, the recorder inserts a
 *   commit's rows already claimed by this instance, and committed() sends
 *   them from memory right after the commit: no query between the commit
 *   and the publish. (It replaced a wake-up that first claimed the rows with
 *   an UPDATE, and waited behind any pass in progress.)
 * - **Passes** (the fallback): woken by a (re)connection and by a poll
 *   (BUS_OUTBOX_POLL_MS), a pass claims and sends what is waiting: rows
 *   written by other processes (the CLI), while the bus was down, by a
 *   direct send that failed (released at once), or by an instance that died
 *   after its commit (when the claim lapses).
 *
 * A row is deleted only after the broker acknowledged it, so delivery is at
 * least once (subscribers may see a duplicate after a crash between the
 * publish and the delete; the `Nats-Msg-Id` header lets them or a JetStream
 * stream drop it). Order is by commit within one instance while connected;
 * events waiting out an outage may arrive after newer ones.
 */
export class OutboxPublisher implements CommitListener {
  readonly name = 'bus-outbox';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly store: OutboxStore,
    private readonly transport: BusTransport,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: OutboxPublisherOptions,
  ) {
    transport.onConnected(() => this.wake());
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake();
  }

  claimMs(): number | undefined {
    return !this.stopped && this.transport.state() === 'connected' ? (this.options.leaseMs ?? 30_000) : undefined;
  }

  /** The rows of a commit: sends those claimed for it now, wakes a pass for the others. */
  committed(rows: readonly BusOutboxRow[]): void {
    const claimed = rows.filter((row) => row.claimed_until !== null);
    if (claimed.length < rows.length) this.wake();
    // Stopped between the insert and the commit: the claim lapses and a pass (here or elsewhere) sends them.
    if (claimed.length === 0 || this.stopped) return;
    const sending = this.sendClaimed(claimed)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'bus: direct send failed; the events stay in the outbox'))
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  private async sendClaimed(rows: readonly BusOutboxRow[]): Promise<void> {
    // Every publish() writes its message before its first await: one socket write for the commit's rows.
    const results = await Promise.allSettled(rows.map((row) => this.transport.publish(this.subject(row.subject), encoder.encode(row.payload), messageId(row))));
    const done = rows.filter((_row, index) => results[index]?.status === 'fulfilled').map((row) => row.id);
    const refused = rows.filter((_row, index) => results[index]?.status === 'rejected');
    await this.store.delete(done);
    if (done.length > 0) this.options.onPublished?.(done.length);
    if (refused.length > 0) {
      const first = results.find((result) => result.status === 'rejected');
      this.logger.warn({ err: first?.reason, subject: refused[0]?.subject }, 'bus: publish failed; the event stays in the outbox');
      await this.store.release(refused.map((row) => row.id));
      this.wake();
    }
  }

  /** Publishes what is due now (coalesced: a wake during a pass runs one more pass). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'bus: outbox pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.timer = setTimeout(() => this.wake(), this.options.pollMs);
      });
  }

  /** One pass: claim, publish in order, delete what the broker took; stops at the first refusal. */
  async drain(): Promise<number> {
    let published = 0;
    for (;;) {
      if (this.transport.state() !== 'connected') return published;
      const batch = this.options.batchSize ?? 100;
      const rows = await this.store.claim(this.clock.now(), this.options.leaseMs ?? 30_000, batch);
      if (rows.length === 0) return published;
      const done: number[] = [];
      let failed = false;
      for (const row of rows) {
        try {
          await this.transport.publish(this.subject(row.subject), encoder.encode(row.payload), messageId(row));
          done.push(row.id);
        } catch (error) {
          this.logger.warn({ err: error, subject: row.subject }, 'bus: publish failed; the event stays in the outbox');
          failed = true;
          break;
        }
      }
      await this.store.delete(done);
      published += done.length;
      if (done.length > 0) this.options.onPublished?.(done.length);
      if (failed) {
        await this.store.release(rows.filter((row) => !done.includes(row.id)).map((row) => row.id));
        return published;
      }
      if (rows.length < batch) return published;
    }
  }

  private subject(stored: string): string {
    const prefix = this.options.subjectPrefix ?? 'curfew';
    return prefix === 'curfew' || !stored.startsWith('curfew.') ? stored : `${prefix}${stored.slice('curfew'.length)}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([this.running, ...this.sending]);
  }
}
