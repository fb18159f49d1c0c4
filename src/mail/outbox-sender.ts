import type { Logger } from '../logger.js';
import type { BackgroundTask } from '../background-task.js';
import type { MailOutbox } from './outbox.js';

export interface OutboxSenderOptions {
  readonly outbox: MailOutbox;
  readonly logger: Logger;
  /** Wall-clock pause between polls, in ms (default 500). Woken early by enqueue. */
  readonly pollMs?: number;
}

/**
 * The background loop that drains the outbox: polls every `pollMs`, and at
 * once when woken after an enqueue. Never throws into a timer: a failed round
 * is logged and the next poll tries again. `stop()` waits for the round in flight.
 */
export class OutboxSender implements BackgroundTask {
  readonly name = 'mail-outbox';
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  /** A wake-up arrived during a round: run another one right after it. */
  private again = false;

  constructor(private readonly options: OutboxSenderOptions) {
    this.pollMs = options.pollMs ?? 500;
    options.outbox.onWake(() => this.wake());
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const { outbox, logger } = this.options;
    if (!outbox.sendingEnabled) {
      outbox.noteSendingDisabled();
      return;
    }
    logger.info({ transport: outbox.transportKind(), pollMs: this.pollMs }, 'mail outbox sender started');
    this.schedule(0);
  }

  /** Runs a round now (or right after the one in flight). */
  wake(): void {
    if (!this.started || this.stopped || !this.options.outbox.sendingEnabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.round().finally(() => {
        this.running = undefined;
        this.schedule(this.again ? 0 : this.pollMs);
        this.again = false;
      });
    }, delayMs);
    // The poll alone must not keep a process alive.
    this.timer.unref();
  }

  private async round(): Promise<void> {
    try {
      await this.options.outbox.sendDue();
    } catch (error) {
      this.options.logger.error({ err: error }, 'mail outbox round failed; retrying at the next poll');
    }
  }
}
