import { sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { InProcessBus } from '../presence/in-process-bus.js';
import type { PresenceBus, PresenceDiff } from '../presence/types.js';
import type { Storage } from './database.js';

/** NOTIFY payloads must stay under 8000 bytes; 600 ids of up to 10 digits fit. */
const IDS_PER_NOTIFY = 600;

/**
 * PostgreSQL LISTEN/NOTIFY fan-out: a dedicated client listens (reconnecting
 * after a drop), NOTIFY goes through the pool. The channel is per schema so
 * isolated test schemas on one server do not hear each other.
 */
export class PgBus implements PresenceBus {
  private readonly handlers = new Set<(diff: PresenceDiff) => void>();
  private readonly channel: string;
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Extract<DatabaseConfig, { kind: 'postgres' }>,
    private readonly storage: Storage,
    private readonly logger: Logger,
  ) {
    this.channel = config.schema ? `curfew_presence_${config.schema}` : 'curfew_presence';
  }

  async publish(diff: PresenceDiff): Promise<void> {
    const chunks: PresenceDiff[] = [];
    for (let i = 0; i < diff.online.length; i += IDS_PER_NOTIFY) chunks.push({ online: diff.online.slice(i, i + IDS_PER_NOTIFY), offline: [] });
    for (let i = 0; i < diff.offline.length; i += IDS_PER_NOTIFY) chunks.push({ online: [], offline: diff.offline.slice(i, i + IDS_PER_NOTIFY) });
    for (const chunk of chunks) {
      await sql`select pg_notify(${this.channel}, ${JSON.stringify({ on: chunk.online, off: chunk.offline })})`.execute(this.storage.db);
    }
  }

  subscribe(handler: (diff: PresenceDiff) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async start(): Promise<void> {
    if (this.client || this.closed) return;
    const client = new pg.Client({ connectionString: this.config.url });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel !== this.channel || message.payload === undefined) return;
      let diff: PresenceDiff;
      try {
        const parsed = JSON.parse(message.payload) as { on?: unknown; off?: unknown };
        diff = { online: numbers(parsed.on), offline: numbers(parsed.off) };
      } catch (error) {
        this.logger.warn({ err: error }, 'presence bus: unreadable notification');
        return;
      }
      for (const handler of this.handlers) handler(diff);
    });
    const reconnect = (error?: unknown) => {
      if (this.client !== client || this.closed) return;
      this.logger.warn({ err: error }, 'presence bus: listener lost, reconnecting');
      this.client = undefined;
      void client.end().catch(() => undefined);
      this.retry = setTimeout(() => void this.start().catch((err: unknown) => reconnect(err)), 1000);
      this.retry.unref();
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect());
    await client.connect();
    // LISTEN takes an identifier, not a parameter; the channel is built from a validated schema name.
    await client.query(`listen "${this.channel}"`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    this.handlers.clear();
    await client?.end().catch(() => undefined);
  }
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((item): item is number => Number.isInteger(item)) : [];
}

/** The presence bus for the configured engine: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL. */
export function openPresenceBus(config: DatabaseConfig, storage: Storage, logger: Logger): PresenceBus {
  return config.kind === 'postgres' ? new PgBus(config, storage, logger) : new InProcessBus();
}
