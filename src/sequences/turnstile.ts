/**
 * One piece of work per turn of the event loop. `pass()` resolves in a turn
 * of its own, after the ones already waiting, and between two turns Node
 * polls for I/O: a request that arrives while a sequence drain builds
 * messages or writes the ledger waits for one piece of work, not for every
 * piece that happened to be ready at once (twenty lanes woken by one burst of
 * SMTP replies, a claim followed by its re-check). A plain `setImmediate` per
 * piece would not do: immediates queued together run back to back.
 */
export class Turnstile {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  pass(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.release);
      }
    });
  }

  private readonly release = (): void => {
    const next = this.waiting.shift();
    // Scheduled from inside the check phase, the next release runs in the next turn, after the I/O poll.
    if (this.waiting.length > 0) setImmediate(this.release);
    else this.scheduled = false;
    next?.();
  };
}
