import type { Clock } from '../clock.js';
import type { Storage } from '../db/database.js';
import { MailOutboxRepository, type MailOutboxRow } from '../db/repositories/mail-outbox.js';
import type { Logger } from '../logger.js';
import { describeMailError } from './describe-error.js';
import { deliveryOutcome, type Mailer, type MailMessage } from './mailer.js';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, type RetryPolicy } from './retry-policy.js';

export interface MailOutboxOptions {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Built on first send, so processes that never send open no connection. */
  readonly mailer: () => Mailer;
  /** The From header. */
  readonly from: string;
  /** False keeps every message in the outbox, unsent (EMAIL_SENDING_ENABLED). */
  readonly sendingEnabled: boolean;
  /** Identifies this process in locked_by. */
  readonly holder: string;
  /** Domain for Message-IDs (default `curfew.local`). */
  readonly messageIdDomain?: string;
  /** Rows claimed per round (default 10). */
  readonly batchSize?: number;
  /** How long a claim holds before another instance may retry the row, in ms (default 5 min). */
  readonly leaseMs?: number;
  readonly retry?: RetryPolicy;
  /** Strings that must never reach last_error or a log line (e.g. the SMTP password). */
  readonly secrets?: readonly string[];
}

export interface EnqueueOptions {
  /** Write inside this transaction (from `transaction()`), so the mail exists only if the transaction commits. */
  readonly trx?: Storage;
}

/** Rounds per sendDue call, so one call cannot run forever while rows keep arriving. */
const MAX_ROUNDS = 100;

/**
 * The mail outbox: `enqueue` writes a row (optionally inside the caller's
 * transaction); `sendDue` claims due rows race-safely, sends them and records
 * the outcome, retrying failures with exponential back-off.
 */
export class MailOutbox {
  private readonly repository: MailOutboxRepository;
  private readonly retry: RetryPolicy;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private mailer: Mailer | undefined;
  private wakeListener: (() => void) | undefined;
  private disabledLogged = false;

  constructor(private readonly options: MailOutboxOptions) {
    this.repository = new MailOutboxRepository(options.storage);
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.batchSize = options.batchSize ?? 10;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
  }

  /** Queues a message; returns the outbox id. Without `trx` the sender is woken at once. */
  async enqueue(message: MailMessage, enqueueOptions: EnqueueOptions = {}): Promise<number> {
    const repository = enqueueOptions.trx ? new MailOutboxRepository(enqueueOptions.trx) : this.repository;
    const id = await repository.insert({
      recipient: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html ?? null,
      now: this.options.clock.now(),
    });
    if (!enqueueOptions.trx) this.wake();
    return id;
  }

  /** Asks the background sender to look for due mail now (call after committing an enqueue). */
  wake(): void {
    this.wakeListener?.();
  }

  /** The background sender registers here to be woken. */
  onWake(listener: () => void): void {
    this.wakeListener = listener;
  }

  /** Whether the outbox sends at all (EMAIL_SENDING_ENABLED). */
  get sendingEnabled(): boolean {
    return this.options.sendingEnabled;
  }

  /** Logs, once per process, that sending is switched off. */
  noteSendingDisabled(): void {
    if (this.disabledLogged) return;
    this.disabledLogged = true;
    this.options.logger.warn('EMAIL_SENDING_ENABLED=false: mail is queued in the outbox and not sent');
  }

  /**
   * Sends every row that is due now; resolves to the number sent. Failures are
   * recorded on their rows (never thrown); a database error rejects.
   */
  async sendDue(): Promise<number> {
    if (!this.options.sendingEnabled) {
      this.noteSendingDisabled();
      return 0;
    }
    const stale = await this.repository.expireStale(this.options.clock.now());
    if (stale > 0) this.options.logger.error({ rows: stale }, 'mail rows left sending by a stopped sender are now unknown; resolve them (docs/sequences.md)');
    let sent = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const rows = await this.repository.claimDue({
        now: this.options.clock.now(),
        holder: this.options.holder,
        leaseMs: this.leaseMs,
        limit: this.batchSize,
      });
      if (rows.length === 0) break;
      const results = await Promise.all(rows.map((row) => this.deliver(row)));
      sent += results.filter(Boolean).length;
    }
    return sent;
  }

  /** Rows whose delivery is unknown (operators: admin API, CLI, /cron/status). */
  listUnknown(limit = 100): Promise<MailOutboxRow[]> {
    return this.repository.listUnknown(limit);
  }

  /** Resolves an `unknown` row: `sent` closes it, `retry` sends it again. False when it is not unknown. */
  async resolveUnknown(id: number, outcome: 'sent' | 'retry'): Promise<boolean> {
    const changed = await this.repository.resolveUnknown(id, outcome, this.options.clock.now());
    if (changed && outcome === 'retry') this.wake();
    return changed;
  }

  /** How many rows are `unknown`. */
  async unknownCount(): Promise<number> {
    return (await this.repository.countByStatus()).unknown;
  }

  /** Closes the transport's connections. */
  async close(): Promise<void> {
    await this.mailer?.close();
  }

  /** The transport in use ('smtp' or 'file'), building it if needed. */
  transportKind(): 'smtp' | 'file' {
    return this.getMailer().kind;
  }

  private getMailer(): Mailer {
    this.mailer ??= this.options.mailer();
    return this.mailer;
  }

  private async deliver(row: MailOutboxRow): Promise<boolean> {
    const { logger, holder, clock } = this.options;
    try {
      await this.getMailer().send({
        from: this.options.from,
        to: row.recipient,
        subject: row.subject,
        text: row.text,
        html: row.html ?? undefined,
        messageId: `<outbox-${row.id}-${row.created_at}@${this.options.messageIdDomain ?? 'curfew.local'}>`,
      });
    } catch (error) {
      const description = this.describe(error);
      if (deliveryOutcome(error) === 'unknown') {
        await this.repository.markUnknown(row.id, holder, description);
        logger.error({ mailId: row.id, error: description }, 'mail delivery unknown (connection lost after the data was sent); not resent automatically');
        return false;
      }
      const next = nextAttemptAt(clock.now(), row.attempts, this.retry);
      await this.repository.markAttemptFailed(row.id, holder, { error: description, nextAttemptAt: next });
      if (next === null) {
        logger.error({ mailId: row.id, attempts: row.attempts, error: description }, 'mail send failed for good; row marked failed');
      } else {
        logger.warn({ mailId: row.id, attempts: row.attempts, retryAt: new Date(next).toISOString(), error: description }, 'mail send failed; will retry');
      }
      return false;
    }
    if (!(await this.repository.markSent(row.id, holder, clock.now()))) {
      logger.warn({ mailId: row.id }, 'mail sent after its claim was lost; the row was not updated');
    }
    logger.debug({ mailId: row.id }, 'mail sent');
    return true;
  }

  private describe(error: unknown): string {
    return describeMailError(error, this.options.secrets);
  }
}
