/**
 * What a verifier remembers from curfew's revocation events (docs/verify.md):
 * revoked sessions, per-user and global not-before times, and the global
 * mark's exemptions. Small by construction, pruned as entries age out.
 */

/** The claims the revocation rules look at. */
export interface SessionRef {
  readonly userId: number;
  readonly role: string;
  readonly sessionId: string;
  /** When the session was created (epoch ms; the `sct` claim). */
  readonly sessionCreatedAt: number;
}

interface GlobalMark {
  readonly before: number;
  readonly excludedRoles: readonly string[];
  readonly excludedUserIds: ReadonlySet<number>;
}

const time = (value: unknown, fallback: number): number => {
  const parsed = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(parsed) ? parsed : fallback;
};

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

export class RevocationSet {
  /** Session id -> when the event arrived (epoch ms). */
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<number, number>();
  private globals: GlobalMark[] = [];

  /** `memoryMs`: how long an entry is kept; at least the access-token lifetime (default 24 h, curfew's longest). */
  constructor(private readonly memoryMs = 86_400_000) {}

  isRevoked(ref: SessionRef): boolean {
    if (this.sessions.has(ref.sessionId)) return true;
    const userMark = this.users.get(ref.userId);
    if (userMark !== undefined && ref.sessionCreatedAt <= userMark) return true;
    for (const mark of this.globals) {
      if (ref.sessionCreatedAt <= mark.before && !mark.excludedUserIds.has(ref.userId) && !mark.excludedRoles.includes(ref.role)) return true;
    }
    return false;
  }

  /** Applies one event by its subject's last tokens (`session.revoked`, ...); returns false for one it does not know. */
  apply(kind: string, payload: Record<string, unknown>, now: number): boolean {
    this.prune(now);
    switch (kind) {
      case 'session.revoked':
        if (typeof payload.session_id !== 'string') return false;
        this.sessions.set(payload.session_id, now);
        return true;
      case 'user.logged_out_everywhere':
      case 'user.deactivated': {
        if (!isId(payload.user_id)) return false;
        const before = time(payload.before, now);
        this.users.set(payload.user_id, Math.max(this.users.get(payload.user_id) ?? 0, before));
        return true;
      }
      case 'sessions.revoked_all': {
        const excludedRoles = Array.isArray(payload.excluded_roles) ? payload.excluded_roles.filter((role): role is string => typeof role === 'string') : [];
        const ids = Array.isArray(payload.excluded_user_ids) ? payload.excluded_user_ids.filter(isId) : [];
        this.globals.push({ before: time(payload.before, now), excludedRoles, excludedUserIds: new Set(ids) });
        return true;
      }
      default:
        return false;
    }
  }

  /** Entries held (tests, metrics). */
  size(): number {
    return this.sessions.size + this.users.size + this.globals.length;
  }

  private prune(now: number): void {
    const cutoff = now - this.memoryMs;
    for (const [id, at] of this.sessions) if (at < cutoff) this.sessions.delete(id);
    for (const [id, at] of this.users) if (at < cutoff) this.users.delete(id);
    this.globals = this.globals.filter((mark) => mark.before >= cutoff);
  }
}
