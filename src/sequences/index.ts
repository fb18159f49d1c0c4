import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Storage } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/mailer.js';
import { MessageBuilder } from './message.js';
import { SequenceSender, type TickCounts } from './sender.js';
import { SequencesService } from './service.js';
import { SequenceTemplates } from './templates.js';
import { UnsubscribeTokens } from './unsubscribe-token.js';

export { SequencesService } from './service.js';
export { SequenceSender } from './sender.js';
export type { TickCounts } from './sender.js';

/** The part of the mail service sequences need. */
export interface SequenceMailSource {
  createMailer(options?: { maxConnections?: number; maxMessages?: number; timeoutMs?: number; thread?: boolean; niceness?: number }): Mailer;
  readonly secrets: readonly string[];
  readonly messageIdDomain: string;
}

export interface CreateSequencesOptions {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly mail: SequenceMailSource;
}

/** What the app wires: the service (routes, CLI), the sender, and the `sequence-tick` body. */
export interface Sequences {
  readonly service: SequencesService;
  readonly sender: SequenceSender;
  /** The `sequence-tick` job body: counts, honours dry run. */
  tick(context: { dryRun: boolean; signal: AbortSignal; progress(update: { done: number; message?: string }): void }): Promise<Readonly<Record<string, number>>>;
  close(): Promise<void>;
}

/** Builds the sequences area from config. */
export function createSequences(options: CreateSequencesOptions): Sequences {
  const { config, clock, storage, mail } = options;
  const logger = options.logger.child({ component: 'sequences' });
  const templates = new SequenceTemplates();
  const tokens = new UnsubscribeTokens(config.secretKey);
  const sender = new SequenceSender({
    storage,
    clock,
    logger,
    mailer: () =>
      mail.createMailer({
        maxConnections: config.sequences.smtpConnections,
        maxMessages: config.sequences.smtpMaxMessages,
        timeoutMs: config.sequences.smtpTimeoutMs,
        niceness: config.sequences.smtpNiceness,
        // MIME and SMTP for a drain on a second core, not in front of the requests this process serves.
        thread: true,
      }),
    messages: new MessageBuilder({ templates, tokens, from: config.mail.from, publicUrl: config.publicUrl, messageIdDomain: `seq.${mail.messageIdDomain}` }),
    holder: config.scheduler.instanceId,
    sendingEnabled: config.mail.sendingEnabled,
    batchSize: config.sequences.batchSize,
    concurrency: config.sequences.sendConcurrency,
    maxPerTick: config.sequences.tickLimit,
    leaseMs: config.sequences.sendLeaseMs,
    secrets: mail.secrets,
  });
  const tick = async (context: { dryRun: boolean; signal: AbortSignal; progress?(update: { done: number; message?: string }): void }) => {
    const counts: TickCounts = await sender.tick(context);
    return { ...counts };
  };
  const service = new SequencesService({ storage, clock, logger, templates, tokens, defaultKey: config.sequences.defaultKey, tick });
  return {
    service,
    sender,
    tick,
    close: () => sender.close(),
  };
}
