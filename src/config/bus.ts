import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/** The message bus (src/bus; docs/verify.md). */
export interface BusConfig {
  /** BUS_URL (default none: no bus): NATS server(s), e.g. nats://127.0.0.1:4222, comma-separated for several. */
  readonly url: string | undefined;
  /** BUS_OUTBOX_POLL_MS (default 1000): how often the outbox is checked for events written by other processes. */
  readonly outboxPollMs: number;
  /**
   * BUS_SUBJECT_PREFIX (default `curfew`): the first subject token, so several
   * deployments can share one NATS (`<prefix>.auth.verify`, `<prefix>.events.>`).
   */
  readonly subjectPrefix: string;
}

/** Reads BUS_URL and BUS_OUTBOX_POLL_MS; throws ConfigError on a bad value. */
export function parseBus(reader: EnvReader): BusConfig {
  const raw = reader.raw('BUS_URL');
  let url: string | undefined;
  if (raw !== undefined && raw.trim() !== '') {
    for (const server of raw.split(',').map((item) => item.trim())) {
      let parsed: URL;
      try {
        parsed = new URL(server);
      } catch {
        throw new ConfigError('BUS_URL', `"${server}" is not a URL; use nats://host:4222 (comma-separated for several servers)`);
      }
      if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') {
        throw new ConfigError('BUS_URL', `must use nats:// or tls://, got ${parsed.protocol}; e.g. nats://127.0.0.1:4222 (Kafka is not supported yet)`);
      }
    }
    url = raw.trim();
  }
  const subjectPrefix = reader.string('BUS_SUBJECT_PREFIX', 'curfew');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subjectPrefix)) {
    throw new ConfigError('BUS_SUBJECT_PREFIX', 'must be NATS subject tokens (letters, digits, - and _, separated by dots), e.g. curfew or acme.curfew');
  }
  return { url, outboxPollMs: reader.integer('BUS_OUTBOX_POLL_MS', 1000, { min: 10, max: 600_000 }), subjectPrefix };
}
