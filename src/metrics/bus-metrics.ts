import { Counter, Gauge, type Registry } from 'prom-client';

/** What the bus reports to Prometheus (src/bus). */
export interface BusMetricsSource {
  state(): string;
  pending(): Promise<number>;
}

/**
 * The bus's metrics in an app's registry: verify requests answered by this
 * instance (by result), events published, the connection and the outbox backlog.
 */
export function busMetrics(registry: Registry, source: BusMetricsSource) {
  const registers = [registry];
  // Counted in plain numbers on the verify path and handed to the Counter at
  // scrape time: Counter.inc({ result }) allocated a label object and a label
  // hash string per request, garbage the responder's scavenges then paid for.
  const verifyCounts = { valid: 0, invalid: 0, malformed: 0 };
  const verifyReported = { valid: 0, invalid: 0, malformed: 0 };
  new Counter({
    name: 'curfew_bus_verify_requests_total',
    help: 'curfew.auth.verify requests answered by this instance, by result (valid, invalid, malformed).',
    labelNames: ['result'],
    registers,
    collect() {
      for (const result of ['valid', 'invalid', 'malformed'] as const) {
        const delta = verifyCounts[result] - verifyReported[result];
        if (delta > 0) this.inc({ result }, delta);
        verifyReported[result] = verifyCounts[result];
      }
    },
  });
  const published = new Counter({ name: 'curfew_bus_events_published_total', help: 'Outbox events this instance published.', registers });
  new Gauge({
    name: 'curfew_bus_connected',
    help: '1 while this instance is connected to the bus.',
    registers,
    collect() {
      this.set(source.state() === 'connected' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'curfew_bus_outbox_pending',
    help: 'Events waiting in the outbox (shared by every instance).',
    registers,
    async collect() {
      this.set(await source.pending());
    },
  });
  return {
    countVerify: (result: 'valid' | 'invalid' | 'malformed') => {
      verifyCounts[result] += 1;
    },
    countPublished: (n: number) => published.inc(n),
  };
}
