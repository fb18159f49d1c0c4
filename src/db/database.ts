import type { Kysely } from 'kysely';
import type { AccountsTables } from './schema/accounts.js';
import type { AuthTables } from './schema/auth.js';
import type { MaintenanceTables } from './schema/maintenance.js';
import type { PresenceTables } from './schema/presence.js';
import type { SchedulerTables } from './schema/scheduler.js';
import type { TriggerTables } from './schema/triggers.js';
import type { UsersTables } from './schema/users.js';

/** Every table, as Kysely sees it. One interface per area under schema/. */
export interface Database extends UsersTables, AccountsTables, AuthTables, SchedulerTables, TriggerTables, PresenceTables, MaintenanceTables {}

export type Engine = 'sqlite' | 'postgres';

/** The storage handle every repository receives. */
export interface Storage {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** Round-trips to the database; false when it cannot be reached. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
