import type { Selectable } from 'kysely';
import type { Storage } from '../database.js';
import type { ServiceClientsTable } from '../schema/bus.js';

export type ServiceClientRow = Selectable<ServiceClientsTable>;

/** Data access for `service_clients` (introspection callers). */
export class ServiceClientsRepository {
  constructor(private readonly storage: Storage) {}

  /**
   * Inserts a client; undefined when the name is taken (revoked names stay
   * taken, so an old secret can never come back to life). Race-safe: under
   * concurrent calls with one name exactly one caller gets the row.
   */
  async insert(name: string, secretHash: string, now: number): Promise<ServiceClientRow | undefined> {
    const row = await this.storage.db
      .insertInto('service_clients')
      .values({ name, secret_hash: secretHash, created_at: now, revoked_at: null, last_used_at: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ? normalise(row) : undefined;
  }

  async findByName(name: string): Promise<ServiceClientRow | undefined> {
    const row = await this.storage.db.selectFrom('service_clients').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? normalise(row) : undefined;
  }

  async list(): Promise<ServiceClientRow[]> {
    const rows = await this.storage.db.selectFrom('service_clients').selectAll().orderBy('name').execute();
    return rows.map(normalise);
  }

  /** Revokes a live client; false when there is none by that name (or it is already revoked). */
  async revoke(name: string, now: number): Promise<boolean> {
    const result = await this.storage.db
      .updateTable('service_clients')
      .set({ revoked_at: now })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async touch(name: string, now: number): Promise<void> {
    await this.storage.db.updateTable('service_clients').set({ last_used_at: now }).where('name', '=', name).execute();
  }
}

/** PostgreSQL returns bigint columns as strings. */
function normalise(row: ServiceClientRow): ServiceClientRow {
  return {
    ...row,
    id: Number(row.id),
    created_at: Number(row.created_at),
    revoked_at: row.revoked_at === null ? null : Number(row.revoked_at),
    last_used_at: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}
