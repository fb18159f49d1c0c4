import { Gauge, type Registry } from 'prom-client';
import type { SendState } from '../db/schema/sequences.js';

/** What the sequence gauges read at scrape time (from the shared database). */
export interface SequenceMetricsSource {
  readonly sequences: {
    backlog(): Promise<{ due: number; oldestDueAt: number | null }>;
    sendCounts(): Promise<Record<SendState, number>>;
  };
  readonly outbox: { count(): Promise<number> };
  /** Default Date.now (the gauge is an age for dashboards, read when scraped). */
  readonly now?: () => number;
}

/**
 * Registers `curfew_sequence_backlog` (steps due and not sent),
 * `curfew_sequence_oldest_due_seconds` (age of the oldest), and
 * `curfew_mail_unknown` (deliveries whose outcome is unknown, by source:
 * `sequence` and `outbox`; an operator must resolve them).
 */
export function watchSequences(registry: Registry, source: SequenceMetricsSource): void {
  const registers = [registry];
  let reading: Promise<{ due: number; oldestDueAt: number | null }> | undefined;
  const backlog = () => {
    reading ??= source.sequences.backlog().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  new Gauge({
    name: 'curfew_sequence_backlog',
    help: 'Sequence steps due and not yet sent (seed 002 "queue backlog").',
    registers,
    async collect() {
      this.set((await backlog()).due);
    },
  });
  new Gauge({
    name: 'curfew_sequence_oldest_due_seconds',
    help: 'Age in seconds of the oldest sequence step due and not yet sent; 0 when none.',
    registers,
    async collect() {
      const { oldestDueAt } = await backlog();
      const now = source.now?.() ?? Date.now();
      this.set(oldestDueAt === null ? 0 : Math.max(0, (now - oldestDueAt) / 1000));
    },
  });
  new Gauge({
    name: 'curfew_mail_unknown',
    help: 'Deliveries whose outcome is unknown (connection lost after the data was sent); resolve them.',
    labelNames: ['source'],
    registers,
    async collect() {
      const [sends, outbox] = await Promise.all([source.sequences.sendCounts(), source.outbox.count()]);
      this.set({ source: 'sequence' }, sends.unknown);
      this.set({ source: 'outbox' }, outbox);
    },
  });
}
