/** The one source of time. All times in curfew are epoch milliseconds. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand; it never advances on its own. */
export class TestClock implements Clock {
  constructor(private current: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  set(epochMs: number | Date | string): void {
    this.current = typeof epochMs === 'number' ? epochMs : new Date(epochMs).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
