import { sql, type QueryCreator, type Selectable } from 'kysely';
import type { Database, Storage } from '../database.js';
import { inBatch } from '../in-batch.js';
import type { UserPresenceTable } from '../schema/presence.js';

export type UserPresenceRow = Selectable<UserPresenceTable>;

/**
 * Data access for `user_presence`, `presence_connections` and
 * `presence_instances`. `active_connections` is always recomputed from the
 * connection rows (never incremented blindly), so two instances changing one
 * user's connections at once converge on the true count.
 */
export class PresenceRepository {
  constructor(private readonly storage: Storage) {}

  private get db() {
    return this.storage.db;
  }

  /**
   * Records an open connection (idempotent per connection id), moves
   * `last_seen_at`, sets the user online. `cameOnline` is true only for the
   * caller whose update flipped the user from offline to online.
   */
  async openConnection(input: { id: string; userId: number; instanceId: string; now: number }): Promise<{ cameOnline: boolean; activeConnections: number }> {
    const { id, userId, instanceId, now } = input;
    await this.db
      .insertInto('presence_connections')
      .values({ id, user_id: userId, instance_id: instanceId, opened_at: now })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await this.touch(userId, now);
    const flipped = await this.db
      .updateTable('user_presence')
      .set({ online: 1, changed_at: now })
      .where('user_id', '=', userId)
      .where('online', '=', 0)
      .returning('user_id')
      .executeTakeFirst();
    return { cameOnline: flipped !== undefined, activeConnections: await this.recount(userId) };
  }

  /** Deletes one connection row; answers the user's remaining connections. */
  async closeConnection(id: string, userId: number): Promise<number> {
    await this.db.deleteFrom('presence_connections').where('id', '=', id).execute();
    return this.recount(userId);
  }

  /** Sets `active_connections` from the connection rows; answers it. */
  async recount(userId: number): Promise<number> {
    const row = await this.db
      .updateTable('user_presence')
      .set({
        active_connections: (eb) =>
          eb.selectFrom('presence_connections').select((inner) => inner.fn.countAll<number>().as('n')).where('user_id', '=', userId),
      })
      .where('user_id', '=', userId)
      .returning('active_connections')
      .executeTakeFirst();
    return Number(row?.active_connections ?? 0);
  }

  /** Moves `last_seen_at` forward (creating the user's row, offline, if absent). */
  async touch(userId: number, now: number): Promise<void> {
    await this.db
      .insertInto('user_presence')
      .values({ user_id: userId, online: 0, last_seen_at: now, active_connections: 0, changed_at: now })
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({
          last_seen_at: sql<number>`case when user_presence.last_seen_at > ${now} then user_presence.last_seen_at else ${now} end`,
        }),
      )
      .execute();
  }

  /**
   * Race-safe: sets the user offline only while they are online with no
   * connection on any instance. True for the caller that flipped it.
   */
  async markOfflineIfIdle(userId: number, now: number): Promise<boolean> {
    const recounted = await this.recount(userId);
    if (recounted > 0) return false;
    const row = await this.db
      .updateTable('user_presence')
      .set({ online: 0, changed_at: now })
      .where('user_id', '=', userId)
      .where('online', '=', 1)
      .where('active_connections', '=', 0)
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Batch form of markOfflineIfIdle: recounts these users' connections, then
   * sets offline those online with none left; answers their ids.
   */
  async markIdleOffline(userIds: readonly number[], now: number): Promise<number[]> {
    if (userIds.length === 0) return [];
    await this.db
      .updateTable('user_presence')
      .set({
        active_connections: (eb) =>
          eb
            .selectFrom('presence_connections')
            .select((inner) => inner.fn.countAll<number>().as('n'))
            .whereRef('presence_connections.user_id', '=', 'user_presence.user_id'),
      })
      .where('user_id', 'in', userIds)
      .execute();
    const rows = await this.db
      .updateTable('user_presence')
      .set({ online: 0, changed_at: now })
      .where('user_id', 'in', userIds)
      .where('online', '=', 1)
      .where('active_connections', '=', 0)
      .returning('user_id')
      .execute();
    return rows.map((row) => Number(row.user_id));
  }

  async find(userId: number): Promise<UserPresenceRow | undefined> {
    return this.db.selectFrom('user_presence').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  /** How many users are online (served by the partial index on online users). */
  async countOnline(): Promise<number> {
    const row = await this.db
      .selectFrom('user_presence')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('online', '=', 1)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Online users by ascending id, after `afterId` (keyset pagination). */
  async listOnline(afterId: number, limit: number): Promise<UserPresenceRow[]> {
    return this.db
      .selectFrom('user_presence')
      .selectAll()
      .where('online', '=', 1)
      .where('user_id', '>', afterId)
      .orderBy('user_id')
      .limit(limit)
      .execute();
  }

  /**
   * One batch of the sweep, in one transaction: online users seen before
   * `cutoff` go offline with their counter reset and their connection rows
   * deleted; answers their ids and how many connections went. Served by the
   * partial index on `last_seen_at WHERE online = 1`. On PostgreSQL it is one
   * statement (a data-modifying CTE): one round trip and one commit a batch,
   * and no list of a thousand ids sent back for the delete.
   */
  async markInactiveOffline(cutoff: number, now: number, limit: number): Promise<{ userIds: number[]; connectionsRemoved: number }> {
    const markOffline = (db: QueryCreator<Database>) =>
      db
        .updateTable('user_presence')
        .set({ online: 0, active_connections: 0, changed_at: now })
        .where(
          inBatch(
            this.storage.engine,
            'user_id',
            db.selectFrom('user_presence').select('user_id').where('online', '=', 1).where('last_seen_at', '<', cutoff).limit(limit),
          ),
        )
        .where('online', '=', 1)
        .returning('user_id');
    if (this.storage.engine === 'postgres') {
      const rows = await this.db
        .with('gone', (db) => markOffline(db))
        .with('removed', (db) =>
          db
            .deleteFrom('presence_connections')
            .where('user_id', 'in', (eb) => eb.selectFrom('gone').select('gone.user_id'))
            .returning('presence_connections.id'),
        )
        .selectFrom('gone')
        .select((eb) => ['gone.user_id', eb.selectFrom('removed').select(eb.fn.countAll<string>().as('n')).as('removed')])
        .execute();
      return { userIds: rows.map((row) => Number(row.user_id)), connectionsRemoved: Number(rows[0]?.removed ?? 0) };
    }
    return this.db.transaction().execute(async (trx) => {
      const userIds = (await markOffline(trx).execute()).map((row) => Number(row.user_id));
      if (userIds.length === 0) return { userIds, connectionsRemoved: 0 };
      const deleted = await trx.deleteFrom('presence_connections').where('user_id', 'in', userIds).executeTakeFirst();
      return { userIds, connectionsRemoved: Number(deleted.numDeletedRows) };
    });
  }

  /**
   * One batch: users left online with no connection since before `cutoff`
   * (their instance died during the offline grace) go offline.
   */
  async markOrphansOffline(cutoff: number, now: number, limit: number): Promise<number[]> {
    const batch = this.db
      .selectFrom('user_presence')
      .select('user_id')
      .where('online', '=', 1)
      .where('active_connections', '=', 0)
      .where('last_seen_at', '<', cutoff)
      .limit(limit);
    const rows = await this.db
      .updateTable('user_presence')
      .set({ online: 0, changed_at: now })
      .where(inBatch(this.storage.engine, 'user_id', batch))
      .where('online', '=', 1)
      .where('active_connections', '=', 0)
      .returning('user_id')
      .execute();
    return rows.map((row) => Number(row.user_id));
  }

  /** How many users the sweep would mark offline (dry run). */
  async countInactive(cutoff: number): Promise<number> {
    const row = await this.db
      .selectFrom('user_presence')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('online', '=', 1)
      .where('last_seen_at', '<', cutoff)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Writes this instance's heartbeat. */
  async heartbeat(instanceId: string, now: number): Promise<void> {
    await this.db
      .insertInto('presence_instances')
      .values({ instance_id: instanceId, heartbeat_at: now, started_at: now })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet({ heartbeat_at: now }))
      .execute();
  }

  /** Instances whose last heartbeat is older than `before`. */
  async staleInstances(before: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('presence_instances')
      .select('instance_id')
      .where('heartbeat_at', '<', before)
      .limit(limit)
      .execute();
    return rows.map((row) => row.instance_id);
  }

  /**
   * Deletes up to `limit` connection rows of an instance; answers the
   * affected user ids (with repeats removed) and the rows deleted.
   */
  async deleteInstanceConnections(instanceId: string, limit: number): Promise<{ userIds: number[]; deleted: number }> {
    const rows = await this.db
      .deleteFrom('presence_connections')
      .where(inBatch(this.storage.engine, 'id', this.db.selectFrom('presence_connections').select('id').where('instance_id', '=', instanceId).limit(limit)))
      .returning('user_id')
      .execute();
    return { userIds: [...new Set(rows.map((row) => Number(row.user_id)))], deleted: rows.length };
  }

  /** Forgets an instance (after its connections were reaped, or on a clean stop). */
  async deleteInstance(instanceId: string): Promise<void> {
    await this.db.deleteFrom('presence_instances').where('instance_id', '=', instanceId).execute();
  }
}
