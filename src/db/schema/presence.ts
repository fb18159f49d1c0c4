/**
 * Tables owned by src/presence. Times are epoch milliseconds, flags 0/1
 * integers (see schema/users.ts).
 */

/** One status per user, however many tabs and devices. */
export interface UserPresenceTable {
  user_id: number;
  /** 1 while the user counts as online. */
  online: number;
  /** Last activity: a WebSocket connect or message, or an authenticated HTTP request. */
  last_seen_at: number;
  /** Open WebSocket connections across every instance (rows in presence_connections). */
  active_connections: number;
  /** When `online` last flipped. */
  changed_at: number;
}

/** One open WebSocket connection, owned by the instance that holds the socket. */
export interface PresenceConnectionsTable {
  id: string;
  user_id: number;
  instance_id: string;
  opened_at: number;
}

/** Each serving instance's heartbeat; a silent instance's connections are reaped. */
export interface PresenceInstancesTable {
  instance_id: string;
  heartbeat_at: number;
  started_at: number;
}

export interface PresenceTables {
  user_presence: UserPresenceTable;
  presence_connections: PresenceConnectionsTable;
  presence_instances: PresenceInstancesTable;
}
