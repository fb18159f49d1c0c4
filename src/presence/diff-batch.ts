import type { PresenceDiff } from './types.js';

/**
 * Coalesces status changes between two ticks: the last state of each user
 * wins, so a flip and a flop within one tick send one entry, not two.
 */
export class DiffBatch {
  private readonly states = new Map<number, boolean>();

  add(diff: PresenceDiff): void {
    for (const id of diff.online) this.states.set(id, true);
    for (const id of diff.offline) this.states.set(id, false);
  }

  get size(): number {
    return this.states.size;
  }

  /** Empties the batch; ids ascending. */
  take(): { online: number[]; offline: number[] } {
    const online: number[] = [];
    const offline: number[] = [];
    for (const [id, isOnline] of this.states) (isOnline ? online : offline).push(id);
    this.states.clear();
    const ascending = (a: number, b: number) => a - b;
    return { online: online.sort(ascending), offline: offline.sort(ascending) };
  }
}
