import type { Generated } from 'kysely';

/** Tables owned by src/bus. Times are epoch milliseconds. */

/** One event waiting to be published (deleted once the bus has it). */
export interface BusOutboxTable {
  id: Generated<number>;
  /** The NATS subject, e.g. `curfew.events.session.revoked`. */
  subject: string;
  /** The JSON payload. */
  payload: string;
  created_at: number;
  claimed_until: number | null;
  attempts: Generated<number>;
}

/** A caller of token introspection. */
export interface ServiceClientsTable {
  id: Generated<number>;
  /** The client id used in HTTP Basic. */
  name: string;
  /** Argon2id hash of the secret. */
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface BusTables {
  bus_outbox: BusOutboxTable;
  service_clients: ServiceClientsTable;
}
