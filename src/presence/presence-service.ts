import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { PresenceRepository } from '../db/repositories/presence.js';
import type { Logger } from '../logger.js';
import { DiffBatch } from './diff-batch.js';
import type { ConnectionHandle, PresenceBus, PresenceDiff, PresenceSink, PresenceStatus, PresenceViewer, VisibilityFn } from './types.js';
import { seesEveryone } from './visibility.js';

export interface PresenceServiceOptions {
  readonly repository: PresenceRepository;
  readonly bus: PresenceBus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** This process's id (INSTANCE_ID); owns its connection rows and heartbeat. */
  readonly instanceId: string;
  /** Offline this long after the last connection closes (default 10 000 ms). */
  readonly offlineGraceMs?: number;
  /** Diffs are coalesced and pushed once per tick (default 250 ms). */
  readonly tickMs?: number;
  /** Instance heartbeat period (default 10 000 ms). */
  readonly heartbeatMs?: number;
  /** `last_seen_at` is written at most this often per user (default 60 000 ms). */
  readonly touchIntervalMs?: number;
}

interface LocalConnection {
  readonly id: string;
  readonly userId: number;
  readonly role: PresenceViewer['role'];
  readonly sink: PresenceSink;
  /** False after an offline event for the user (a sweep); the next message re-attaches. */
  attached: boolean;
  closed: boolean;
}

/**
 * Who is online: local sockets, the offline grace, coalesced diffs pushed
 * once per tick, throttled `last_seen_at` writes and the instance heartbeat.
 * The database holds the shared truth; the bus carries flips to every instance.
 */
export class PresenceService {
  readonly name = 'presence';
  private readonly connections = new Map<string, LocalConnection>();
  private readonly byUser = new Map<number, Set<LocalConnection>>();
  private readonly pendingOffline = new Map<number, number>();
  private readonly toPublish = new DiffBatch();
  private readonly outgoing = new DiffBatch();
  private readonly lastTouch = new Map<number, number>();
  private readonly chains = new Map<number, Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private visibility: VisibilityFn | undefined;
  private unsubscribe: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private ticking: Promise<void> | undefined;
  private started = false;
  private readonly graceMs: number;
  private readonly tickMs: number;
  private readonly heartbeatMs: number;
  private readonly touchIntervalMs: number;

  constructor(private readonly options: PresenceServiceOptions) {
    this.graceMs = options.offlineGraceMs ?? 10_000;
    this.tickMs = options.tickMs ?? 250;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
  }

  /** Restricts who sees whose status, in pushes and lists (default: everyone sees everyone; see visibility.ts). */
  setVisibility(fn: VisibilityFn | undefined): void {
    this.visibility = fn;
  }

  /** May `viewer` see `subjectId`? */
  canSee(viewer: PresenceViewer, subjectId: number): boolean {
    return this.visibility === undefined || this.visibility(viewer, subjectId);
  }

  /** Local sockets of one user on this instance. */
  localConnectionsOf(userId: number): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /** Open sockets on this instance. */
  get localConnections(): number {
    return this.connections.size;
  }

  /** Registers an authenticated socket: the user is online from now on. `role` decides what it is shown. */
  async connect(userId: number, sink: PresenceSink, role: PresenceViewer['role'] = 'user'): Promise<ConnectionHandle> {
    const local: LocalConnection = { id: randomUUID(), userId, role, sink, attached: true, closed: false };
    this.connections.set(local.id, local);
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(local);
    this.pendingOffline.delete(userId);
    this.lastTouch.set(userId, this.options.clock.now());
    const activeConnections = await this.track(this.serial(userId, () => this.attach(local)));
    return {
      id: local.id,
      userId,
      activeConnections,
      activity: () => this.activity(local),
      close: () => this.track(this.disconnect(local)),
    };
  }

  /**
   * An authenticated request or message: moves `last_seen_at`, written at
   * most once per touch interval per user. Never throws.
   */
  touch(userId: number): void {
    const now = this.options.clock.now();
    const last = this.lastTouch.get(userId);
    if (last !== undefined && now - last < this.touchIntervalMs) return;
    this.lastTouch.set(userId, now);
    void this.track(this.options.repository.touch(userId, now)).catch((error: unknown) => {
      this.options.logger.warn({ err: error, userId }, 'presence: last_seen_at write failed');
    });
  }

  /** One user's presence (offline with no last_seen_at if never seen). */
  async status(userId: number): Promise<PresenceStatus> {
    const row = await this.options.repository.find(userId);
    if (!row) return { id: userId, online: false, last_seen_at: null, active_connections: 0 };
    return { id: userId, online: row.online === 1, last_seen_at: isoTime(row.last_seen_at), active_connections: row.active_connections };
  }

  /**
   * Online users `viewer` may see, by ascending id after `afterId`; `next` is
   * the cursor for the following page. A viewer who sees only themself gets
   * their own status when online.
   */
  async listVisible(viewer: PresenceViewer, afterId: number, limit: number): Promise<{ results: PresenceStatus[]; next: number | null }> {
    if (seesEveryone(this.visibility, viewer)) return this.listOnline(afterId, limit);
    if (viewer.userId <= afterId) return { results: [], next: null };
    const own = await this.status(viewer.userId);
    return { results: own.online ? [own] : [], next: null };
  }

  /** How many users are online now (all instances; the console's overview). */
  countOnline(): Promise<number> {
    return this.options.repository.countOnline();
  }

  /** Online users by ascending id after `afterId`; `next` is the cursor for the following page. */
  async listOnline(afterId: number, limit: number): Promise<{ results: PresenceStatus[]; next: number | null }> {
    const rows = await this.options.repository.listOnline(afterId, limit + 1);
    const page = rows.slice(0, limit).map((row) => ({
      id: Number(row.user_id),
      online: true,
      last_seen_at: isoTime(row.last_seen_at),
      active_connections: row.active_connections,
    }));
    const last = page[page.length - 1];
    return { results: page, next: rows.length > limit && last ? last.id : null };
  }

  /**
   * Expires due offline graces, publishes this instance's flips, and pushes
   * the coalesced diff to local sockets. Runs every tick; tests call it.
   */
  tick(): Promise<void> {
    this.ticking ??= this.runTick().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Starts the tick and heartbeat loops and listens on the bus. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.options.bus.subscribe((diff) => this.receive(diff));
    void this.track(this.options.bus.start()).catch((error: unknown) => this.options.logger.error({ err: error }, 'presence: bus failed to start'));
    void this.heartbeat();
    this.timers.push(setInterval(() => void this.tick(), this.tickMs));
    this.timers.push(setInterval(() => void this.heartbeat(), this.heartbeatMs));
    for (const timer of this.timers) timer.unref();
  }

  /**
   * Stops the loops. This instance's remaining connections are released and
   * their users go offline now (no grace: nobody here will reconnect them).
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.allSettled([...this.inFlight]);
    try {
      const { repository, instanceId, clock } = this.options;
      const affected = new Set<number>(this.pendingOffline.keys());
      for (;;) {
        const batch = await repository.deleteInstanceConnections(instanceId, 1000);
        for (const id of batch.userIds) affected.add(id);
        if (batch.deleted < 1000) break;
      }
      const offline = await repository.markIdleOffline([...affected], clock.now());
      this.toPublish.add({ online: [], offline });
      await this.publishPending();
      await repository.deleteInstance(instanceId);
    } catch (error) {
      this.options.logger.error({ err: error }, 'presence: releasing connections on stop failed');
    }
    this.unsubscribe?.();
    await this.options.bus.close();
  }

  private async attach(local: LocalConnection): Promise<number> {
    const { repository, instanceId, clock } = this.options;
    const result = await repository.openConnection({ id: local.id, userId: local.userId, instanceId, now: clock.now() });
    local.attached = true;
    if (result.cameOnline) this.toPublish.add({ online: [local.userId], offline: [] });
    return result.activeConnections;
  }

  private activity(local: LocalConnection): void {
    if (local.closed) return;
    if (!local.attached) {
      local.attached = true;
      void this.track(this.serial(local.userId, () => this.attach(local))).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'presence: re-attach failed');
      });
      return;
    }
    this.touch(local.userId);
  }

  private async disconnect(local: LocalConnection): Promise<void> {
    if (local.closed) return;
    local.closed = true;
    this.connections.delete(local.id);
    const set = this.byUser.get(local.userId);
    set?.delete(local);
    if (set?.size === 0) this.byUser.delete(local.userId);
    const remaining = await this.serial(local.userId, () => this.options.repository.closeConnection(local.id, local.userId));
    if (remaining === 0 && !this.byUser.has(local.userId)) {
      this.pendingOffline.set(local.userId, this.options.clock.now() + this.graceMs);
    }
  }

  private async runTick(): Promise<void> {
    try {
      const now = this.options.clock.now();
      for (const [userId, deadline] of this.pendingOffline) {
        if (deadline > now) continue;
        this.pendingOffline.delete(userId);
        if (this.byUser.has(userId)) continue;
        const flipped = await this.serial(userId, () => this.options.repository.markOfflineIfIdle(userId, now));
        if (flipped) this.toPublish.add({ online: [], offline: [userId] });
      }
      await this.publishPending();
    } catch (error) {
      this.options.logger.error({ err: error }, 'presence: tick failed');
    }
    this.flush();
  }

  private async publishPending(): Promise<void> {
    if (this.toPublish.size === 0) return;
    await this.options.bus.publish(this.toPublish.take());
  }

  private receive(diff: PresenceDiff): void {
    this.outgoing.add(diff);
    for (const userId of diff.offline) {
      for (const local of this.byUser.get(userId) ?? []) local.attached = false;
    }
  }

  /** Sends the coalesced diff: one message per socket per tick, filtered by visibility. */
  private flush(): void {
    if (this.outgoing.size === 0) return;
    const diff = this.outgoing.take();
    const visibility = this.visibility;
    if (!visibility) {
      const text = JSON.stringify({ type: 'presence', ...diff });
      for (const local of this.connections.values()) this.safeSend(local, text);
      return;
    }
    for (const local of this.connections.values()) {
      const viewer = { userId: local.userId, role: local.role };
      const online = diff.online.filter((id) => visibility(viewer, id));
      const offline = diff.offline.filter((id) => visibility(viewer, id));
      if (online.length + offline.length > 0) this.safeSend(local, JSON.stringify({ type: 'presence', online, offline }));
    }
  }

  private safeSend(local: LocalConnection, text: string): void {
    try {
      local.sink.send(text);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'presence: send failed');
    }
  }

  private async heartbeat(): Promise<void> {
    const now = this.options.clock.now();
    for (const [userId, at] of this.lastTouch) if (now - at >= this.touchIntervalMs) this.lastTouch.delete(userId);
    try {
      await this.track(this.options.repository.heartbeat(this.options.instanceId, now));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'presence: heartbeat failed');
    }
  }

  /** Runs `fn` after the user's previous database step, so one user's opens and closes never interleave here. */
  private serial<T>(userId: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(userId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(userId, settled);
    void settled.then(() => {
      if (this.chains.get(userId) === settled) this.chains.delete(userId);
    });
    return next;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.then(
      () => this.inFlight.delete(promise),
      () => this.inFlight.delete(promise),
    );
    return promise;
  }
}

/** Epoch ms (a bigint column may arrive as a string) as ISO 8601, or null. */
function isoTime(ms: number | string | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}
