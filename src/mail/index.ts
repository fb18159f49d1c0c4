import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import type { MailOutboxRow } from '../db/repositories/mail-outbox.js';
import type { Logger } from '../logger.js';
import { createFileMailer } from './file-mailer.js';
import type { Mailer, MailMessage } from './mailer.js';
import { MailOutbox, type EnqueueOptions } from './outbox.js';
import { OutboxSender } from './outbox-sender.js';
import { createSmtpMailer } from './smtp-mailer.js';
import { createThreadMailer } from './thread-mailer.js';

export type { MailMessage } from './mailer.js';
export type { EnqueueOptions } from './outbox.js';

/** What the rest of the app sees of mail (`services.mail`). */
export interface MailService {
  /** MAIL_TRANSPORT: 'smtp', or 'file' (`.eml` files under DATA_DIR/mail). */
  readonly transport: 'smtp' | 'file';
  /** Queues a message in the outbox, inside `trx` when given; returns the outbox id. */
  enqueue(message: MailMessage, options?: EnqueueOptions): Promise<number>;
  /** Wakes the background sender (after committing a transaction that enqueued). */
  wake(): void;
  /** Sends everything due now, without waiting for the poll; resolves to the number sent. */
  sendDueNow(): Promise<number>;
  /** The background sender, for the app's `background` list. */
  readonly sender: OutboxSender;
  /** Closes SMTP connections. */
  close(): Promise<void>;
  /**
   * A new transport of the configured kind (SMTP when SMTP_URL is set, else
   * `.eml` files), for senders with their own pool (sequence mail). With
   * `thread`, the SMTP pool runs in a worker thread (bulk sending next to live
   * requests). The caller closes it.
   */
  createMailer(options?: MailerOptions): Mailer;
  /** The outbox rows whose delivery is unknown, and the operator's verdict on one. */
  readonly unknown: {
    list(limit?: number): Promise<MailOutboxRow[]>;
    count(): Promise<number>;
    resolve(id: number, outcome: 'sent' | 'retry'): Promise<boolean>;
  };
  /** Secrets that must never reach an error column or a log line (the SMTP password). */
  readonly secrets: readonly string[];
  /** The domain used in Message-IDs (PUBLIC_URL's host). */
  readonly messageIdDomain: string;
}

/** A dedicated transport's pool: connections, messages per connection, timeout, and whether it runs in its own thread. */
export interface MailerOptions {
  maxConnections?: number;
  maxMessages?: number;
  timeoutMs?: number;
  thread?: boolean;
  /** With `thread`, Linux: the thread's nice value (default 0). */
  niceness?: number;
}

export interface MailServiceOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  /** Replaces the configured transport (default: SMTP when SMTP_URL is set, else files). */
  readonly mailer?: () => Mailer;
}

/** Builds the outbox, its transport (chosen from config) and its background sender. */
export function createMailService(options: MailServiceOptions): MailService {
  const { config, clock, logger, storage } = options;
  // MAIL_TRANSPORT (or, unset, whether SMTP_URL is set) decides; config refuses smtp without a URL.
  const transport = config.mail.transport;
  const smtpUrl = transport === 'smtp' ? config.mail.smtpUrl : undefined;
  const createMailer = ({ thread, niceness, ...pool }: MailerOptions = {}): Mailer => {
    if (smtpUrl === undefined) return createFileMailer({ directory: join(config.dataDir, 'mail'), clock });
    return thread === true ? createThreadMailer({ url: smtpUrl, ...pool, ...(niceness === undefined ? {} : { niceness }) }) : createSmtpMailer({ url: smtpUrl, ...pool });
  };
  const mailer = options.mailer ?? (() => createMailer());
  const smtpPassword = smtpUrl === undefined ? '' : decodeURIComponent(new URL(smtpUrl).password);
  const outbox = new MailOutbox({
    storage,
    clock,
    logger: logger.child({ component: 'mail' }),
    mailer,
    from: config.mail.from,
    sendingEnabled: config.mail.sendingEnabled,
    holder: config.scheduler.instanceId,
    messageIdDomain: new URL(config.publicUrl).hostname,
    secrets: smtpPassword === '' ? [] : [smtpPassword],
  });
  const sender = new OutboxSender({ outbox, logger: logger.child({ component: 'mail' }) });
  return {
    transport,
    enqueue: (message, enqueueOptions) => outbox.enqueue(message, enqueueOptions),
    wake: () => outbox.wake(),
    sendDueNow: () => outbox.sendDue(),
    sender,
    close: () => outbox.close(),
    createMailer: (mailerOptions) => (options.mailer ? options.mailer() : createMailer(mailerOptions)),
    unknown: {
      list: (limit) => outbox.listUnknown(limit),
      count: () => outbox.unknownCount(),
      resolve: (id, outcome) => outbox.resolveUnknown(id, outcome),
    },
    secrets: smtpPassword === '' ? [] : [smtpPassword],
    messageIdDomain: new URL(config.publicUrl).hostname,
  };
}
