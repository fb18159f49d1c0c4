import type { Clock } from '../clock.js';
import type { Storage } from '../db/database.js';
import { MailSuppressionsRepository } from '../db/repositories/mail-suppressions.js';
import { SequenceEnrollmentsRepository } from '../db/repositories/sequence-enrollments.js';
import { SequenceSendsRepository, type SendDetails } from '../db/repositories/sequence-sends.js';
import { transaction } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import { describeMailError } from '../mail/describe-error.js';
import { DeliveryError, deliveryOutcome, type Mailer } from '../mail/mailer.js';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, type RetryPolicy } from '../mail/retry-policy.js';
import type { MessageBuilder } from './message.js';

/** A tick's counts (seed 002): what it looked at, queued, sent, skipped (with reasons), failed and left unknown. */
export interface TickCounts {
  processed: number;
  queued: number;
  sent: number;
  skipped: number;
  failed: number;
  unknown: number;
  retried: number;
  [reason: `skipped_${string}`]: number;
}

export interface TickContext {
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  progress?(update: { done: number; message?: string }): void;
}

export interface SequenceSenderOptions {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Built on first send and kept (pooled connections). */
  readonly mailer: () => Mailer;
  readonly messages: MessageBuilder;
  /** Identifies this process in locked_by. */
  readonly holder: string;
  /** EMAIL_SENDING_ENABLED: false counts due steps as skipped and sends nothing. */
  readonly sendingEnabled: boolean;
  /** Sends claimed per round (default 200). */
  readonly batchSize?: number;
  /** Rounds in flight at once (default 4), so the database work of one overlaps the SMTP work of another. */
  readonly workers?: number;
  /** Messages in flight per round (default 25); with `workers` rounds, enough to keep the SMTP pool busy. */
  readonly lanes?: number;
  /** Most sends claimed per tick (default 10 000); the rest wait for the next tick. */
  readonly maxPerTick?: number;
  /** How long a `sending` claim holds before another instance makes it `unknown` (default 5 min). */
  readonly leaseMs?: number;
  /** 4xx back-off (default: the outbox's, 8 attempts from 30 s doubling to 1 h). */
  readonly retry?: RetryPolicy;
  /** Strings never to store or log (the SMTP password). */
  readonly secrets?: readonly string[];
}

type Outcome = { kind: 'sent' } | { kind: 'retry' | 'failed' | 'unknown'; error: string; responseCode: number | null };

const zero = (): TickCounts => ({ processed: 0, queued: 0, sent: 0, skipped: 0, failed: 0, unknown: 0, retried: 0 });

/**
 * The `sequence-tick` body: moves due enrollments into the send ledger,
 * claims queued sends, re-checks suppression, delivers and records each
 * outcome. Exactly once per (enrollment, step): the unique key is written
 * before any byte goes out, and a send is only ever sent again when it is
 * known not to have been delivered (a 4xx reply, or a failure before the
 * message data) or an operator says `retry`.
 */
export class SequenceSender {
  private readonly sends: SequenceSendsRepository;
  private readonly enrollments: SequenceEnrollmentsRepository;
  private readonly suppressions: MailSuppressionsRepository;
  private mailer: Mailer | undefined;

  constructor(private readonly options: SequenceSenderOptions) {
    this.sends = new SequenceSendsRepository(options.storage);
    this.enrollments = new SequenceEnrollmentsRepository(options.storage);
    this.suppressions = new MailSuppressionsRepository(options.storage);
  }

  /** One tick. Database errors reject (the runner records the failed run); delivery failures are recorded on their rows. */
  async tick(context: TickContext): Promise<TickCounts> {
    const { clock, logger } = this.options;
    const counts = zero();
    if (!context.dryRun) {
      const stale = await this.sends.expireStale(clock.now());
      if (stale > 0) {
        counts.unknown += stale;
        logger.error({ sends: stale }, 'sequence sends left sending by a stopped instance are now unknown; resolve them (docs/sequences.md)');
      }
    }
    if (context.dryRun || !this.options.sendingEnabled) {
      const { due } = await this.sends.backlog(clock.now());
      counts.processed = due;
      if (context.dryRun) return { ...counts, would_send: due } as TickCounts;
      counts.skipped = due;
      counts.skipped_sending_disabled = due;
      if (due > 0) logger.warn({ due }, 'EMAIL_SENDING_ENABLED=false: due sequence steps skipped, nothing sent');
      return counts;
    }
    let remaining = this.options.maxPerTick ?? 10_000;
    const batchSize = this.options.batchSize ?? 200;
    const worker = async (): Promise<void> => {
      while (remaining > 0 && !context.signal.aborted) {
        const limit = Math.min(batchSize, remaining);
        const queued = await this.sends.enqueueDue(clock.now(), limit);
        counts.queued += queued;
        const ids = await this.sends.claim({ now: clock.now(), holder: this.options.holder, leaseMs: this.options.leaseMs ?? 300_000, limit });
        if (ids.length === 0) {
          if (queued === 0) return;
          // Another worker or instance claimed what this round queued; look again.
          continue;
        }
        remaining -= ids.length;
        await this.process(ids, counts);
        context.progress?.({ done: counts.processed, message: `sent ${counts.sent}` });
      }
    };
    await Promise.all(Array.from({ length: this.options.workers ?? 4 }, () => worker()));
    return counts;
  }

  /** Closes the transport's connections. */
  async close(): Promise<void> {
    await this.mailer?.close();
    this.mailer = undefined;
  }

  private async process(ids: number[], counts: TickCounts): Promise<void> {
    const { clock, holder } = this.options;
    const rows = await this.sends.details(ids);
    counts.processed += ids.length;
    const skip = new Map<string, SendDetails[]>();
    const unqueue: SendDetails[] = [];
    const deliver: (SendDetails & { step_id: number; subject: string; text: string })[] = [];
    for (const row of rows) {
      const reason = skipReason(row);
      if (reason === 'sequence_inactive') unqueue.push(row);
      else if (reason !== undefined) skip.set(reason, [...(skip.get(reason) ?? []), row]);
      else deliver.push(row as SendDetails & { step_id: number; subject: string; text: string });
    }
    const now = clock.now();
    for (const [reason, skipped] of skip) {
      await this.sends.markSkipped(skipped.map((row) => row.id), holder, reason, now);
      counts.skipped += skipped.length;
      counts[`skipped_${reason}`] = (counts[`skipped_${reason}`] ?? 0) + skipped.length;
      if (reason === 'unsubscribed') {
        for (const row of skipped) await this.enrollments.unsubscribeUser(row.user_id, now);
      }
      // A removed step ends the enrollment's path through the sequence where it stands.
      if (reason === 'step_removed') await this.enrollments.advance(skipped.map((row) => row.enrollment_id), now);
    }
    await this.sends.unqueue(unqueue.map((row) => row.id), unqueue.map((row) => row.enrollment_id), now);
    // A few lanes per round, each building its next message only when its last one is answered:
    // the pool stays busy, and building never blocks the event loop for a whole batch at once.
    const outcomes: Outcome[] = new Array<Outcome>(deliver.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < deliver.length) {
        const index = next++;
        outcomes[index] = await this.deliver(deliver[index] as (typeof deliver)[number]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.lanes ?? 25, deliver.length) }, lane));
    await this.record(deliver, outcomes, counts);
  }

  private async deliver(row: SendDetails & { step_id: number; subject: string; text: string }): Promise<Outcome> {
    try {
      const mail = this.options.messages.build(row);
      this.mailer ??= this.options.mailer();
      await this.mailer.send(mail);
      return { kind: 'sent' };
    } catch (error) {
      const responseCode = error instanceof DeliveryError ? (error.responseCode ?? null) : null;
      const outcome = error instanceof DeliveryError ? deliveryOutcome(error) : 'failed';
      return { kind: outcome, error: describeMailError(error, this.options.secrets), responseCode };
    }
  }

  private async record(rows: readonly (SendDetails & { step_id: number })[], outcomes: readonly Outcome[], counts: TickCounts): Promise<void> {
    const { clock, holder, logger } = this.options;
    const now = clock.now();
    const sentIds = rows.filter((_, index) => outcomes[index]?.kind === 'sent').map((row) => row.id);
    if (sentIds.length > 0) {
      await transaction(this.options.storage, async (tx) => {
        const enrollmentIds = await new SequenceSendsRepository(tx).markSent(sentIds, holder, now);
        await new SequenceEnrollmentsRepository(tx).advance(enrollmentIds, now);
      });
      counts.sent += sentIds.length;
    }
    for (const [index, row] of rows.entries()) {
      const outcome = outcomes[index];
      if (outcome === undefined || outcome.kind === 'sent') continue;
      const base = { error: outcome.error, responseCode: outcome.responseCode, recipient: row.email };
      if (outcome.kind === 'retry') {
        const next = nextAttemptAt(now, row.attempts, this.options.retry ?? DEFAULT_RETRY_POLICY);
        if (next !== null) {
          await this.sends.settle(row.id, holder, { ...base, state: 'queued', nextAttemptAt: next }, now);
          counts.retried += 1;
          logger.warn({ sendId: row.id, attempts: row.attempts, retryAt: new Date(next).toISOString(), error: outcome.error }, 'sequence send deferred; will retry');
          continue;
        }
      }
      if (outcome.kind === 'unknown') {
        await this.sends.settle(row.id, holder, { ...base, state: 'unknown' }, now);
        counts.unknown += 1;
        logger.error({ sendId: row.id, error: outcome.error }, 'sequence send unknown (connection lost after the data was sent); never resent automatically, resolve it');
        continue;
      }
      await transaction(this.options.storage, async (tx) => {
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

  /** For tests and the unsubscribe route: the suppression list. */
  get suppressionList(): MailSuppressionsRepository {
    return this.suppressions;
  }
}

/** Why a claimed send must not go out now, or undefined when it may. */
function skipReason(row: SendDetails): string | undefined {
  if (row.suppressed !== null || row.enrollment_status === 'unsubscribed') return 'unsubscribed';
  if (row.enrollment_status !== 'active') return 'stopped';
  if (row.activated_at === null) return 'deactivated';
  if (row.step_id === null || row.subject === null || row.text === null) return 'step_removed';
  if (Number(row.sequence_active) !== 1) return 'sequence_inactive';
  return undefined;
}
