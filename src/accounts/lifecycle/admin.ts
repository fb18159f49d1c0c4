import { UsersAdminRepository } from '../../db/repositories/users-admin.js';
import { UsersRepository, type UserRow } from '../../db/repositories/users.js';
import { AppError } from '../../errors.js';
import { normaliseEmail } from '../public-user.js';
import type { LifecycleDeps } from './types.js';

/** Rows per page of the user list (default 50, at most 200). */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface UserListQuery {
  /** Part of the e-mail address, any case. */
  readonly q?: string | undefined;
  readonly role?: 'user' | 'admin' | undefined;
  /** true: can sign in (activated, not deactivated); false: the others. */
  readonly active?: boolean | undefined;
  /** 1-based (default 1). */
  readonly page?: number | undefined;
  readonly perPage?: number | undefined;
}

export interface UserPage {
  readonly users: readonly UserRow[];
  readonly page: number;
  readonly perPage: number;
  readonly total: number;
}

export interface UserChange {
  readonly role?: 'user' | 'admin' | undefined;
  /** false deactivates (every session ends); true reactivates (and activates a never-activated account). */
  readonly active?: boolean | undefined;
}

/** Admin user management, shared by the admin API and `curfew users`. */
export class UserAdmin {
  private readonly users: UsersRepository;
  private readonly admin: UsersAdminRepository;

  constructor(private readonly deps: LifecycleDeps) {
    this.users = new UsersRepository(deps.storage);
    this.admin = new UsersAdminRepository(deps.storage);
  }

  /** Users by id, filtered; `q` matches anywhere in the address. */
  async list(query: UserListQuery): Promise<UserPage> {
    const page = Math.max(1, query.page ?? 1);
    const perPage = Math.min(MAX_PAGE_SIZE, Math.max(1, query.perPage ?? DEFAULT_PAGE_SIZE));
    const { rows, total } = await this.admin.search({
      q: query.q === undefined ? undefined : normaliseEmail(query.q),
      role: query.role,
      active: query.active,
      limit: perPage,
      offset: (page - 1) * perPage,
    });
    return { users: rows, page, perPage, total };
  }

  /** The user, or USER_NOT_FOUND. */
  async get(id: number): Promise<UserRow> {
    const user = await this.users.findById(id);
    if (!user) throw new AppError('USER_NOT_FOUND', 'No such user.');
    return user;
  }

  /** By numeric id or by e-mail address (the CLI's argument). */
  async find(idOrEmail: string): Promise<UserRow> {
    const user = /^[1-9][0-9]{0,14}$/.test(idOrEmail) ? await this.users.findById(Number(idOrEmail)) : await this.users.findByEmail(normaliseEmail(idOrEmail));
    if (!user) throw new AppError('USER_NOT_FOUND', `No user ${idOrEmail}.`);
    return user;
  }

  /**
   * Applies a role and/or active change. Deactivation and demotion end every
   * session of the user (tokens carry the role); an admin cannot deactivate
   * or demote themselves (`actorId`; the CLI passes none). Throws
   * USER_NOT_FOUND or CANNOT_CHANGE_OWN_ACCOUNT.
   */
  async update(id: number, change: UserChange, actorId?: number): Promise<UserRow> {
    const { clock, sessions, logger } = this.deps;
    const user = await this.get(id);
    if (actorId === id && (change.active === false || change.role === 'user')) {
      throw new AppError('CANNOT_CHANGE_OWN_ACCOUNT', 'You cannot deactivate or demote your own account; ask another admin.');
    }
    const now = clock.now();
    let endSessions = false;
    let deactivated = false;
    if (change.role !== undefined && change.role !== user.role) {
      await this.admin.setRole(id, change.role, now);
      endSessions ||= change.role === 'user';
      logger.info({ userId: id, role: change.role, actorId }, 'user role changed');
    }
    if (change.active === false && (await this.admin.deactivate(id, now))) {
      endSessions = true;
      deactivated = true;
      logger.info({ userId: id, actorId }, 'user deactivated');
    }
    if (change.active === true && (user.deactivated_at !== null || user.activated_at === null)) {
      await this.admin.reactivate(id, now);
      logger.info({ userId: id, actorId }, 'user reactivated');
    }
    if (endSessions) await sessions.logoutUser(id);
    if (deactivated) await this.deps.hooks.userDeactivated(id);
    return this.get(id);
  }
}
