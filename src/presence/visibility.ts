import type { PresenceViewer, VisibilityFn } from './types.js';

/**
 * Who may see whose presence (PRESENCE_VISIBILITY):
 * - `self-and-admins` (default): a user sees their own status; admins see
 *   everyone. Other users' ids are not revealed (a hidden user answers 404,
 *   like a missing one, and is left out of lists and pushes);
 * - `signed-in`: every signed-in user sees every user (a chat-style app).
 */
export type PresenceVisibility = 'self-and-admins' | 'signed-in';

/** The rule for `mode`; undefined means everyone sees everyone (no filtering cost). */
export function visibilityRule(mode: PresenceVisibility): VisibilityFn | undefined {
  if (mode === 'signed-in') return undefined;
  return (viewer, subjectId) => viewer.role === 'admin' || viewer.userId === subjectId;
}

/** True when `viewer` may see every user under `rule`. */
export function seesEveryone(rule: VisibilityFn | undefined, viewer: PresenceViewer): boolean {
  return rule === undefined || viewer.role === 'admin';
}
