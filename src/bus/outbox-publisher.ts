import type { Clock } from '../clock.js';
import type { BusOutboxRow } from '../db/repositories/bus-outbox.js';
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
  /** How long a claim holds before another instance may publish the row (default 30 000 ms). */
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

/**
 * Hands outbox rows to the bus after their transaction committed: woken at
 * once by a commit in this process or a (re)connection, and by a poll for
 * the others. A row is deleted only after the broker acknowledged it, so
 * delivery is at least once (subscribers may see a duplicate after a crash
 * between the publish and the delete; the `Nats-Msg-Id` header lets them or
 * a JetStream stream drop it). While the bus is down rows simply wait.
 */
export class OutboxPublisher {
  readonly name = 'bus-outbox';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

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
          await this.transport.publish(this.subject(row.subject), encoder.encode(row.payload), `curfew-${row.created_at}-${row.id}`);
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
    await this.running;
  }
}
