import type { Timers } from '../src/jobs/timers.js';

/**
 * One simulated process incarnation. Its timers and database answers are
 * delivered only while it is `up`: `paused` holds them until it resumes (a GC
 * pause, a sleeping laptop), `down` drops them for ever (a crash: whatever was
 * in flight never continues; a restart is a new incarnation).
 */
export class Owner {
  state: 'up' | 'paused' | 'down' = 'up';
  private held: Array<() => void> = [];
  constructor(readonly name: string) {}

  /** Runs `fn` now when up, later (at resume) when paused, never when down. */
  deliver(fn: () => void): void {
    if (this.state === 'up') fn();
    else if (this.state === 'paused') this.held.push(fn);
  }

  pause(): void {
    if (this.state === 'up') this.state = 'paused';
  }

  /** Resumes and delivers everything held during the pause, in order. */
  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'up';
    const held = this.held;
    this.held = [];
    for (const fn of held) fn();
  }

  crash(): void {
    this.state = 'down';
    this.held = [];
  }
}

interface Event {
  readonly time: number;
  readonly seq: number;
  readonly owner: Owner | undefined;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * Virtual time for every simulated instance: a priority queue of timer
 * events. `run()` pops the earliest, moves `now` to it, fires it, and waits
 * until every database call it caused has answered and the microtask queue
 * is empty before the next one, so time never moves while work is pending.
 * Nothing sleeps on wall time.
 */
export class World {
  now: number;
  /** Database calls in flight (counted by the repository guards). */
  inflight = 0;
  events = 0;
  private heap: Event[] = [];
  private seq = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(start: number) {
    this.now = start;
  }

  /**
   * Schedules `fn` at virtual `time` for `owner` (undefined: the world itself). Returns a cancel function.
   * Time stays whole milliseconds, as Date.now() is: a fractional clock once made every PostgreSQL
   * ledger finish fail (bigint columns), so every run there ended "abandoned" (found by the lateness oracle).
   */
  at(time: number, owner: Owner | undefined, fn: () => void): () => void {
    const event: Event = { time: Math.max(Math.ceil(time), this.now), seq: this.seq++, owner, fn, cancelled: false };
    this.push(event);
    return () => {
      event.cancelled = true;
    };
  }

  /** The Timers port for one incarnation: virtual, delivered through its Owner. */
  timersFor(owner: Owner): Timers {
    return { after: (ms, fn) => this.at(this.now + Math.max(0, ms), owner, () => owner.deliver(fn)) };
  }

  /** Counts a database call so run() waits for it; `owner` receives the answer. */
  track<T>(owner: Owner, call: () => Promise<T>): Promise<T> {
    // A crashed process sends nothing.
    if (owner.state === 'down') return new Promise<T>(() => undefined);
    this.inflight += 1;
    const pending = call();
    return new Promise<T>((resolve, reject) => {
      pending.then(
        (value) => {
          this.done();
          owner.deliver(() => resolve(value));
        },
        (error: unknown) => {
          this.done();
          owner.deliver(() => reject(error));
        },
      );
    });
  }

  private done(): void {
    this.inflight -= 1;
    if (this.inflight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  /** Resolves when no database call is in flight and the microtask queue has drained. */
  async settle(): Promise<void> {
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.inflight > 0) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
        continue;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.inflight === 0) return;
    }
  }

  /** Fires every event up to `until` (inclusive) in time order, then sets now = until. */
  async run(until: number): Promise<void> {
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.time > until) break;
      this.pop();
      if (next.cancelled || next.owner?.state === 'down') continue;
      this.now = next.time;
      this.events += 1;
      next.fn();
      await this.settle();
    }
    this.now = Math.max(this.now, until);
  }

  private less(a: Event, b: Event): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(event: Event): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.less(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.less(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

/** A seeded PRNG (mulberry32): the same seed gives the same run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A number in [0, 1) from a seed and a key, independent of call order (PostgreSQL answers in any order). */
export function hashUnit(seed: number, key: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return prng(h)();
}
