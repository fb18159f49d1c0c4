import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevocationSet, type SessionRef } from '../../src/verify/revocations.js';

const T = Date.UTC(2026, 4, 1);
const ref = (over: Partial<SessionRef> = {}): SessionRef => ({ userId: 1, role: 'user', sessionId: 's1', sessionCreatedAt: T - 1000, ...over });
const iso = (ms: number) => new Date(ms).toISOString();

describe('RevocationSet: the verifier\'s rules for curfew\'s events', () => {
  const cases: Array<{ name: string; events: Array<[string, Record<string, unknown>]>; session: SessionRef; revoked: boolean }> = [
    { name: 'nothing happened', events: [], session: ref(), revoked: false },
    { name: 'its session was revoked', events: [['session.revoked', { session_id: 's1', user_id: 1, reason: 'logout' }]], session: ref(), revoked: true },
    { name: 'another session was revoked', events: [['session.revoked', { session_id: 's2', user_id: 1, reason: 'logout' }]], session: ref(), revoked: false },
    { name: 'its user logged out everywhere after the session began', events: [['user.logged_out_everywhere', { user_id: 1, before: iso(T) }]], session: ref(), revoked: true },
    { name: 'its user logged out everywhere before the session began', events: [['user.logged_out_everywhere', { user_id: 1, before: iso(T - 5000) }]], session: ref(), revoked: false },
    { name: 'logout everywhere without `before` counts from arrival', events: [['user.logged_out_everywhere', { user_id: 1 }]], session: ref(), revoked: true },
    { name: 'another user logged out everywhere', events: [['user.logged_out_everywhere', { user_id: 2, before: iso(T) }]], session: ref(), revoked: false },
    { name: 'its user was deactivated', events: [['user.deactivated', { user_id: 1 }]], session: ref(), revoked: true },
    { name: 'logout-all-users', events: [['sessions.revoked_all', { before: iso(T), excluded_roles: [], excluded_user_ids: [] }]], session: ref(), revoked: true },
    { name: 'logout-all-users sparing its role', events: [['sessions.revoked_all', { before: iso(T), excluded_roles: ['admin'], excluded_user_ids: [] }]], session: ref({ role: 'admin' }), revoked: false },
    { name: 'logout-all-users sparing its user (by e-mail)', events: [['sessions.revoked_all', { before: iso(T), excluded_roles: [], excluded_user_ids: [1] }]], session: ref(), revoked: false },
    { name: 'logout-all-users before the session began', events: [['sessions.revoked_all', { before: iso(T - 5000), excluded_roles: [], excluded_user_ids: [] }]], session: ref(), revoked: false },
    { name: 'a malformed event is ignored', events: [['session.revoked', { session: 's1' }], ['user.logged_out_everywhere', { user_id: '1' }]], session: ref(), revoked: false },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.revoked ? 'revoked' : 'valid'}`, () => {
      const set = new RevocationSet();
      for (const [kind, payload] of c.events) set.apply(kind, payload, T);
      assert.equal(set.isRevoked(c.session), c.revoked);
    });
  }

  it('forgets entries older than its memory (the longest token lifetime)', () => {
    const set = new RevocationSet(60_000);
    set.apply('session.revoked', { session_id: 's1', user_id: 1, reason: 'logout' }, T);
    assert.equal(set.size(), 1);
    set.apply('session.revoked', { session_id: 's2', user_id: 1, reason: 'logout' }, T + 61_000);
    assert.equal(set.size(), 1);
    assert.equal(set.isRevoked(ref()), false);
  });
});
