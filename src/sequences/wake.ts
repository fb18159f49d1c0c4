/**
 * A wake-up call between the tick's claimer and its delivery lanes: `wait()`
 * resolves at the next `notify()`. A notify with nobody waiting is not kept,
 * so a waiter always re-checks its condition first and waits only when it has
 * to.
 */
export class Wake {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
