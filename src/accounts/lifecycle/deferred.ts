import type { Logger } from '../../logger.js';

/**
 * Work done after the answer went out. The enumeration-safe routes (resend,
 * reset) answer the same 202 before looking the address up, so neither their
 * body nor their response time depends on whether an account exists; the
 * lookup, the token and the outbox row happen here. Failures are logged,
 * never thrown; `drain()` waits for everything in flight (app stop, tests).
 */
export class DeferredWork {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Runs `fn` on the next turn of the event loop (after the reply is written). */
  run(name: string, fn: () => Promise<void>): void {
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(fn)
      .catch((error: unknown) => this.logger.error({ err: error, task: name }, 'deferred account work failed'))
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }

  /** Resolves once nothing is in flight (work started meanwhile included). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
