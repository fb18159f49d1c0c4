/** A batch of status changes: user ids that came online and went offline. */
export interface PresenceDiff {
  readonly online: readonly number[];
  readonly offline: readonly number[];
}

/**
 * The fan-out port: every instance publishes its status flips here and
 * pushes what it hears to its own sockets. In-process on SQLite; PostgreSQL
 * LISTEN/NOTIFY across instances (src/db/pg-bus.ts).
 */
export interface PresenceBus {
  /** Delivers the diff to every subscriber on every instance, this one included. */
  publish(diff: PresenceDiff): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(handler: (diff: PresenceDiff) => void): () => void;
  /** Starts listening (a no-op in-process). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** One connected client as the domain sees it (a WebSocket in src/http/routes/presence-socket.ts). */
export interface PresenceSink {
  send(text: string): void;
}

/** Who is looking: the signed-in user and their role. */
export interface PresenceViewer {
  readonly userId: number;
  readonly role: 'user' | 'admin';
}

/** May `viewer` see `subjectId`'s status? (src/presence/visibility.ts; undefined rule: everyone sees everyone.) */
export type VisibilityFn = (viewer: PresenceViewer, subjectId: number) => boolean;

/** A user's presence as the REST routes answer it (times ISO 8601, like every other route). */
export interface PresenceStatus {
  readonly id: number;
  readonly online: boolean;
  readonly last_seen_at: string | null;
  readonly active_connections: number;
}

/** An online user with the account's e-mail, as admins list them (time ISO 8601). */
export interface OnlineAccount {
  readonly userId: number;
  readonly email: string;
  /** Open connections on every instance. */
  readonly connections: number;
  readonly lastSeenAt: string | null;
}

/** What the ws adapter holds for one open socket. */
export interface ConnectionHandle {
  readonly id: string;
  readonly userId: number;
  /** The user's open connections on every instance right after this one opened (the per-user cap's count). */
  readonly activeConnections: number;
  /** The client did something (a message): activity, and re-attach after a sweep. */
  activity(): void;
  /** The socket closed; the user goes offline after the grace if it was their last. */
  close(): Promise<void>;
}
