/**
 * The revocation events curfew publishes on the bus (docs/verify.md), so
 * other services can drop cached sessions at once. Subjects and payloads are
 * a public contract; times are ISO 8601 strings. Every event is written to
 * the outbox in the same transaction as the change it announces and
 * published after the commit (src/bus/outbox-publisher.ts).
 */

export const EVENT_SUBJECTS = {
  sessionRevoked: 'curfew.events.session.revoked',
  userLoggedOutEverywhere: 'curfew.events.user.logged_out_everywhere',
  sessionsRevokedAll: 'curfew.events.sessions.revoked_all',
  keysRotated: 'curfew.events.keys.rotated',
  userDeactivated: 'curfew.events.user.deactivated',
} as const;

/** Every event subject matches this wildcard. */
export const EVENT_WILDCARD = 'curfew.events.>';

/** One session ended (logout, admin revoke, refresh-token reuse, ...). */
export interface SessionRevokedEvent {
  readonly session_id: string;
  readonly user_id: number;
  readonly reason: string;
}

/** Every session of one user existing at `at` ended. */
export interface UserLoggedOutEverywhereEvent {
  readonly user_id: number;
  /** Sessions created at or before this time are revoked (an addition to the issue's `{user_id}`). */
  readonly before: string;
}

/** logout-all-users: every session created at or before `before` ended, except the excluded users'. */
export interface SessionsRevokedAllEvent {
  readonly before: string;
  readonly excluded_roles: readonly string[];
  /** The users spared (by role or e-mail), so a subscriber can apply the exclusions exactly. */
  readonly excluded_user_ids: readonly number[];
}

/** A new signing key is current; the previous one stays published until its tokens expire. */
export interface KeysRotatedEvent {
  readonly kid: string;
}

/** A user was deactivated: every session of theirs is over. */
export interface UserDeactivatedEvent {
  readonly user_id: number;
}

/** An event ready for the outbox: its subject and payload. */
export interface BusEvent {
  readonly subject: string;
  readonly payload: object;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `curfew.events.session.revoked`. */
export function sessionRevoked(sessionId: string, userId: number, reason: string): BusEvent {
  const payload: SessionRevokedEvent = { session_id: sessionId, user_id: userId, reason };
  return { subject: EVENT_SUBJECTS.sessionRevoked, payload };
}

/** `curfew.events.user.logged_out_everywhere`; `before` in epoch ms. */
export function userLoggedOutEverywhere(userId: number, before: number): BusEvent {
  const payload: UserLoggedOutEverywhereEvent = { user_id: userId, before: iso(before) };
  return { subject: EVENT_SUBJECTS.userLoggedOutEverywhere, payload };
}

/** `curfew.events.sessions.revoked_all`: one event however many sessions; `before` in epoch ms. */
export function sessionsRevokedAll(before: number, excludedRoles: readonly string[], excludedUserIds: readonly number[]): BusEvent {
  const payload: SessionsRevokedAllEvent = { before: iso(before), excluded_roles: [...excludedRoles], excluded_user_ids: [...excludedUserIds] };
  return { subject: EVENT_SUBJECTS.sessionsRevokedAll, payload };
}

/** `curfew.events.keys.rotated`. */
export function keysRotated(kid: string): BusEvent {
  const payload: KeysRotatedEvent = { kid };
  return { subject: EVENT_SUBJECTS.keysRotated, payload };
}

/**
 * `curfew.events.user.deactivated`. User deactivation is built in another
 * branch: at merge the lead wires it by passing this event to
 * `EventRecorder.record()` inside the deactivating transaction (or to
 * `BusEvents.publishUserDeactivated()` after it; see src/bus/index.ts).
 */
export function userDeactivated(userId: number): BusEvent {
  const payload: UserDeactivatedEvent = { user_id: userId };
  return { subject: EVENT_SUBJECTS.userDeactivated, payload };
}
