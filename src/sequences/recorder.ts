import type { Clock } from '../clock.js';
import type { Storage } from '../db/database.js';
import { MailSuppressionsRepository } from '../db/repositories/mail-suppressions.js';
import { SequenceEnrollmentsRepository } from '../db/repositories/sequence-enrollments.js';
import { SequenceSendsRepository, type SendDetails } from '../db/repositories/sequence-sends.js';
import { transaction } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import { nextAttemptAt, type RetryPolicy } from '../mail/retry-policy.js';
import type { TickCounts } from './tick-counts.js';

/** What one delivery attempt came to. */
export type Outcome = { kind: 'sent' } | { kind: 'retry' | 'failed' | 'unknown'; error: string; responseCode: number | null };

export interface SendRecorderOptions {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly holder: string;
  readonly retry: RetryPolicy;
  /** `sent` rows written per statement (the batch size). */
  readonly flushSize: number;
  /** Runs between database steps, so a synchronous engine gives the event loop back (SQLite). */
  readonly pause: () => Promise<void>;
}

/**
 * Writes delivery outcomes to the send ledger. Accepted sends are written in
 * batches (`sent` and the enrollments moved on, one transaction per batch):
 * until its batch is written a row stays `sending` under its lease, so a
 * process that dies between the server's 250 and the write leaves it
 * `sending`, and the next tick after the lease makes it `unknown` — never a
 * second delivery. Other outcomes are rare and written one by one, at once.
 */
export class SendRecorder {
  private readonly sends: SequenceSendsRepository;
  private sent: (SendDetails & { step_id: number })[] = [];
  /** The batch being written; one at a time, in order. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: SendRecorderOptions,
    private readonly counts: TickCounts,
  ) {
    this.sends = new SequenceSendsRepository(options.storage);
  }

  /** Takes one outcome; resolves once it is written or queued for the next batch write. */
  async add(row: SendDetails & { step_id: number }, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'sent') {
      this.sent.push(row);
      if (this.sent.length >= this.options.flushSize) await this.flush();
      return;
    }
    await this.settle(row, outcome);
  }

  /** Writes the accepted sends not yet written; resolves when every batch handed over so far is written. */
  async flush(): Promise<void> {
    const batch = this.sent;
    this.sent = [];
    if (batch.length > 0) {
      const previous = this.writing;
      this.writing = previous.then(() => this.writeSent(batch));
    }
    await this.writing;
  }

  private async writeSent(batch: readonly (SendDetails & { step_id: number })[]): Promise<void> {
    const { storage, clock, holder, pause } = this.options;
    const now = clock.now();
    await pause();
    await transaction(storage, async (tx) => {
      const enrollmentIds = await new SequenceSendsRepository(tx).markSent(
        batch.map((row) => row.id),
        holder,
        now,
      );
      // A turn between the statements and before the commit: on SQLite each runs synchronously.
      await pause();
      await new SequenceEnrollmentsRepository(tx).advance(enrollmentIds, now);
      await pause();
    });
    this.counts.sent += batch.length;
  }

  private async settle(row: SendDetails & { step_id: number }, outcome: Exclude<Outcome, { kind: 'sent' }>): Promise<void> {
    const { storage, clock, holder, logger } = this.options;
    const counts = this.counts;
    const now = clock.now();
    const base = { error: outcome.error, responseCode: outcome.responseCode, recipient: row.email };
    if (outcome.kind === 'retry') {
      const next = nextAttemptAt(now, row.attempts, this.options.retry);
      if (next !== null) {
        await this.sends.settle(row.id, holder, { ...base, state: 'queued', nextAttemptAt: next }, now);
        counts.retried += 1;
        logger.warn({ sendId: row.id, attempts: row.attempts, retryAt: new Date(next).toISOString(), error: outcome.error }, 'sequence send deferred; will retry');
        return;
      }
    }
    if (outcome.kind === 'unknown') {
      await this.sends.settle(row.id, holder, { ...base, state: 'unknown' }, now);
      counts.unknown += 1;
      logger.error({ sendId: row.id, error: outcome.error }, 'sequence send unknown (connection lost after the data was sent); never resent automatically, resolve it');
      return;
    }
    await transaction(storage, async (tx) => {
      if (await new SequenceSendsRepository(tx).settle(row.id, holder, { ...base, state: 'failed' }, now)) {
        await new SequenceEnrollmentsRepository(tx).advance([row.enrollment_id], now);
      }
      // 550: the mailbox does not exist; no sequence mail goes to it again.
      if (outcome.responseCode === 550) {
        await new MailSuppressionsRepository(tx).add(row.email, 'bounce', now);
        await new SequenceEnrollmentsRepository(tx).unsubscribeUser(row.user_id, now);
      }
    });
    counts.failed += 1;
    logger.warn({ sendId: row.id, responseCode: outcome.responseCode, error: outcome.error }, 'sequence send failed');
  }
}
