import type { PresenceRepository } from '../db/repositories/presence.js';
import type { Counts, JobContext } from '../jobs/types.js';
import type { PresenceBus } from './types.js';

export interface SweepOptions {
  readonly repository: PresenceRepository;
  readonly bus: PresenceBus;
  /** The instance running the sweep; never reaped by itself. */
  readonly instanceId: string;
  /** No activity for this long: offline (INACTIVITY_MINUTES, default 30 min). */
  readonly inactivityMs: number;
  /** An instance silent this long is dead; its connections are removed (default 30 000 ms). */
  readonly instanceTimeoutMs: number;
  /**
   * Online with no connection for this long: offline (the instance that held
   * the offline grace died). Default 60 000 ms; keep it above the grace.
   */
  readonly orphanAfterMs: number;
  /** Rows per statement (default 1000). */
  readonly batchSize?: number;
}

/**
 * The `check-inactive-users` job body: marks inactive users offline and
 * resets their connections, reaps the connections of instances that stopped
 * heart-beating, and publishes the offline diffs. Bounded batches throughout.
 */
export function checkInactiveUsers(options: SweepOptions): (context: JobContext) => Promise<Counts> {
  const { repository, bus } = options;
  const batchSize = options.batchSize ?? 1000;
  return async ({ clock, dryRun, signal, progress }): Promise<Counts> => {
    const now = clock.now();
    const cutoff = now - options.inactivityMs;
    if (dryRun) return { would_mark_offline: await repository.countInactive(cutoff) };

    let markedOffline = 0;
    let connectionsRemoved = 0;
    let instancesReaped = 0;
    const report = () => progress({ done: markedOffline, message: `${markedOffline} offline, ${connectionsRemoved} connections removed` });

    for (;;) {
      signal.throwIfAborted();
      const { userIds: ids, connectionsRemoved: removed } = await repository.markInactiveOffline(cutoff, now, batchSize);
      connectionsRemoved += removed;
      markedOffline += ids.length;
      if (ids.length > 0) await bus.publish({ online: [], offline: ids });
      report();
      if (ids.length < batchSize) break;
    }

    const stale = (await repository.staleInstances(now - options.instanceTimeoutMs, batchSize)).filter((id) => id !== options.instanceId);
    for (const instanceId of stale) {
      const affected = new Set<number>();
      for (;;) {
        signal.throwIfAborted();
        const batch = await repository.deleteInstanceConnections(instanceId, batchSize);
        connectionsRemoved += batch.deleted;
        for (const id of batch.userIds) affected.add(id);
        if (batch.deleted < batchSize) break;
      }
      const users = [...affected];
      for (let start = 0; start < users.length; start += batchSize) {
        const ids = await repository.markIdleOffline(users.slice(start, start + batchSize), now);
        markedOffline += ids.length;
        if (ids.length > 0) await bus.publish({ online: [], offline: ids });
      }
      await repository.deleteInstance(instanceId);
      instancesReaped += 1;
      report();
    }

    for (;;) {
      signal.throwIfAborted();
      const ids = await repository.markOrphansOffline(now - options.orphanAfterMs, now, batchSize);
      markedOffline += ids.length;
      if (ids.length > 0) await bus.publish({ online: [], offline: ids });
      if (ids.length < batchSize) break;
    }

    return { marked_offline: markedOffline, connections_removed: connectionsRemoved, instances_reaped: instancesReaped };
  };
}
