import type { Kysely } from 'kysely';
import type { AccountsTables } from './schema/accounts.js';
import type { AuthTables } from './schema/auth.js';
import type { BusTables } from './schema/bus.js';
import type { MaintenanceTables } from './schema/maintenance.js';
import type { PresenceTables } from './schema/presence.js';
import type { SchedulerTables } from './schema/scheduler.js';
import type { SequenceTables } from './schema/sequences.js';
import type { TriggerTables } from './schema/triggers.js';
import type { UsersTables } from './schema/users.js';
import type { LifecycleTables } from './schema/lifecycle.js';

/** Every table, as Kysely sees it. One interface per area under schema/. */
export interface Database extends UsersTables, AccountsTables, AuthTables, SchedulerTables, TriggerTables, PresenceTables, MaintenanceTables, LifecycleTables, SequenceTables, BusTables {}

export type Engine = 'sqlite' | 'postgres';

/**
 * A statement PostgreSQL parses and plans once per connection and then only
 * executes (`$1`-style placeholders). For hot statements whose planning costs
 * more than running them; the text under one name must never change.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
  readonly values: readonly unknown[];
}

/** The storage handle every repository receives. */
export interface Storage {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** PostgreSQL only: runs a named prepared statement, returning its rows. */
  readonly prepared?: <Row>(statement: PreparedStatement) => Promise<Row[]>;
  /** Round-trips to the database; false when it cannot be reached. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
