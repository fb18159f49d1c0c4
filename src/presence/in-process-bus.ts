import type { PresenceBus, PresenceDiff } from './types.js';

/** The bus for one process (SQLite): publish reaches this process's subscribers only. */
export class InProcessBus implements PresenceBus {
  private readonly handlers = new Set<(diff: PresenceDiff) => void>();

  async publish(diff: PresenceDiff): Promise<void> {
    for (const handler of this.handlers) handler(diff);
  }

  subscribe(handler: (diff: PresenceDiff) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
