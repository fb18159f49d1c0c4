import type { Clock } from '../clock.js';
import type { Storage } from '../db/database.js';
import { MailSuppressionsRepository } from '../db/repositories/mail-suppressions.js';
import { SequenceEnrollmentsRepository } from '../db/repositories/sequence-enrollments.js';
import { SequenceSendsRepository, type SendDetails } from '../db/repositories/sequence-sends.js';
import { SequencesRepository } from '../db/repositories/sequences.js';
import type { Logger } from '../logger.js';
import { describeMailError } from '../mail/describe-error.js';
import { DeliveryError, deliveryOutcome, type Mailer } from '../mail/mailer.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../mail/retry-policy.js';
import type { BuildableSend, MessageBuilder } from './message.js';
import { SendRecorder, type Outcome } from './recorder.js';
import { zeroCounts, type TickCounts } from './tick-counts.js';
import { Turnstile } from './turnstile.js';
import { Wake } from './wake.js';

export type { TickCounts } from './tick-counts.js';

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
  /** Sends claimed per statement, and `sent` rows written per statement (default 200). */
  readonly batchSize?: number;
  /** Messages handed to the transport at once (default 20): a few per pooled connection, so none waits for the next. */
  readonly concurrency?: number;
  /** Most sends claimed per tick (default 10 000); the rest wait for the next tick. */
  readonly maxPerTick?: number;
  /** How long a `sending` claim holds before another instance makes it `unknown` (default 5 min). */
  readonly leaseMs?: number;
  /** 4xx back-off (default: the outbox's, 8 attempts from 30 s doubling to 1 h). */
  readonly retry?: RetryPolicy;
  /** Strings never to store or log (the SMTP password). */
  readonly secrets?: readonly string[];
}

type Deliverable = BuildableSend;

/**
 * The `sequence-tick` body: claims due steps into the send ledger, re-checks
 * suppression, delivers and records each outcome. Exactly once per
 * (enrollment, step): the unique key is written before any byte goes out,
 * and a send is only ever sent again when it is known not to have been
 * delivered (a 4xx reply, or a failure before the message data) or an
 * operator says `retry`.
 *
 * A tick is a pipeline: one claimer keeps at most two batches claimed ahead
 * of delivery; `concurrency` lanes each build one message just in time and
 * hand it to the pooled transport; accepted sends are recorded in batches
 * (src/sequences/recorder.ts). Every database step is followed by a turn of
 * the event loop, so on SQLite (synchronous statements) requests are served
 * between batches instead of after the whole tick.
 */
export class SequenceSender {
  private readonly sends: SequenceSendsRepository;
  private readonly enrollments: SequenceEnrollmentsRepository;
  private readonly suppressions: MailSuppressionsRepository;
  private readonly sequences: SequencesRepository;
  private mailer: Mailer | undefined;

  constructor(private readonly options: SequenceSenderOptions) {
    this.sends = new SequenceSendsRepository(options.storage);
    this.enrollments = new SequenceEnrollmentsRepository(options.storage);
    this.suppressions = new MailSuppressionsRepository(options.storage);
    this.sequences = new SequencesRepository(options.storage);
  }

  /** One tick. Database errors reject (the runner records the failed run); delivery failures are recorded on their rows. */
  async tick(context: TickContext): Promise<TickCounts> {
    const { clock, logger } = this.options;
    const counts = zeroCounts();
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
    await this.drain(context, counts);
    return counts;
  }

  /** Closes the transport's connections. */
  async close(): Promise<void> {
    await this.mailer?.close();
    this.mailer = undefined;
  }

  private async drain(context: TickContext, counts: TickCounts): Promise<void> {
    const { clock, holder } = this.options;
    const batchSize = this.options.batchSize ?? 200;
    // Every piece of main-thread work of the drain (a database step, a message build) in a turn of its own.
    const turns = new Turnstile();
    const pause = () => turns.pass();
    const recorder = new SendRecorder({ ...this.options, retry: this.options.retry ?? DEFAULT_RETRY_POLICY, flushSize: batchSize, pause }, counts);
    const queue: Deliverable[] = [];
    const ready = new Wake();
    const space = new Wake();
    let claiming = true;
    let failure: unknown;
    const stopped = () => failure !== undefined || context.signal.aborted;

    const claimer = async (): Promise<void> => {
      let remaining = this.options.maxPerTick ?? 10_000;
      // Retries (queued rows whose back-off ended) first; once a claim comes back short there are none left this tick.
      let retries = true;
      try {
        while (remaining > 0 && !stopped()) {
          if (queue.length >= batchSize) {
            await space.wait();
            continue;
          }
          const limit = Math.min(batchSize, remaining);
          const now = clock.now();
          const lease = { now, holder, leaseMs: this.options.leaseMs ?? 300_000 };
          const ids = retries ? await this.sends.claim({ ...lease, limit }) : [];
          if (ids.length < limit) {
            retries = false;
            await pause();
            const fresh = await this.sends.claimDue({ ...lease, limit: limit - ids.length, between: pause });
            counts.queued += fresh.length;
            ids.push(...fresh);
          }
          if (ids.length === 0) return;
          remaining -= ids.length;
          await pause();
          queue.push(...(await this.recheck(ids, counts)));
          ready.notify();
          context.progress?.({ done: counts.processed, message: `sent ${counts.sent}` });
          await pause();
        }
      } finally {
        claiming = false;
        ready.notify();
      }
    };

    const unsent: Deliverable[] = [];
    const lane = async (): Promise<void> => {
      for (;;) {
        const row = queue.shift();
        if (queue.length < batchSize) space.notify();
        if (row === undefined) {
          if (!claiming) return;
          await ready.wait();
          continue;
        }
        await pause();
        if (stopped()) {
          unsent.push(row);
          continue;
        }
        const outcome = await this.deliver(row);
        try {
          await recorder.add(row, outcome);
        } catch (error) {
          failure ??= error;
          space.notify();
        }
      }
    };

    // Handled at once (a rejection left waiting would be an unhandled one); thrown after the lanes are done.
    const claimed = claimer().catch((error: unknown) => {
      failure ??= error;
    });
    await Promise.all(Array.from({ length: this.options.concurrency ?? 20 }, lane));
    await recorder.flush().catch((error: unknown) => {
      failure ??= error;
    });
    // Never handed to the transport (the run was stopped): back to queued, not left to become unknown.
    // If even that fails, they stay `sending` and become `unknown` after their lease: never sent twice.
    await this.sends
      .release(
        unsent.map((row) => row.id),
        holder,
        clock.now(),
      )
      .catch((error: unknown) => {
        failure ??= error;
      });
    await claimed;
    if (failure !== undefined) throw failure;
  }

  /**
   * The re-check just before delivery: claimed sends whose address is
   * suppressed, enrollment stopped, account deactivated or step removed are
   * `skipped` (with the reason); a switched-off sequence's go back. Returns the rest.
   */
  private async recheck(ids: number[], counts: TickCounts): Promise<Deliverable[]> {
    const { clock, holder } = this.options;
    const rows = await this.sends.details(ids);
    counts.processed += ids.length;
    // Step bodies: read once per step version, not once per mail.
    const { messages } = this.options;
    const missing = messages.missing(rows.filter((row): row is Deliverable => row.step_id !== null));
    if (missing.length > 0) messages.learn(await this.sequences.stepBodies(missing));
    const skip = new Map<string, SendDetails[]>();
    const unqueue: SendDetails[] = [];
    const deliver: Deliverable[] = [];
    for (const row of rows) {
      // A step removed between the two reads is not known: removed.
      const reason = skipReason(row) ?? (messages.knows(row as Deliverable) ? undefined : 'step_removed');
      if (reason === 'sequence_inactive') unqueue.push(row);
      else if (reason !== undefined) skip.set(reason, [...(skip.get(reason) ?? []), row]);
      else deliver.push(row as Deliverable);
    }
    if (skip.size === 0 && unqueue.length === 0) return deliver;
    const now = clock.now();
    for (const [reason, skipped] of skip) {
      await this.sends.markSkipped(
        skipped.map((row) => row.id),
        holder,
        reason,
        now,
      );
      counts.skipped += skipped.length;
      counts[`skipped_${reason}`] = (counts[`skipped_${reason}`] ?? 0) + skipped.length;
      if (reason === 'unsubscribed') {
        for (const row of skipped) await this.enrollments.unsubscribeUser(row.user_id, now);
      }
      // A removed step ends the enrollment's path through the sequence where it stands.
      if (reason === 'step_removed') await this.enrollments.advance(skipped.map((row) => row.enrollment_id), now);
    }
    await this.sends.unqueue(
      unqueue.map((row) => row.id),
      unqueue.map((row) => row.enrollment_id),
      now,
    );
    return deliver;
  }

  private async deliver(row: Deliverable): Promise<Outcome> {
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
  if (row.step_id === null) return 'step_removed';
  if (Number(row.sequence_active) !== 1) return 'sequence_inactive';
  return undefined;
}
