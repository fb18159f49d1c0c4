import type { Storage } from '../../db/database.js';

/** Accounts that are about to be deleted, inside the deleting transaction. */
export interface AccountDeletedEvent {
  readonly userIds: readonly number[];
  /** `deleted`: the user deleted their account (DELETE /api/v1/me/); `purged`: never activated, older than UNACTIVATED_ACCOUNT_TTL. */
  readonly reason: 'deleted' | 'purged';
  /** The transaction the users are deleted in: write through it, so both commit or neither. */
  readonly storage: Storage;
}

export type AccountDeletedListener = (event: AccountDeletedEvent) => Promise<void>;

/**
 * Extension points of the account lifecycle. Other areas register here
 * (e.g. sequence enrolments: `hooks.onAccountDeleted(({ userIds, storage }) =>
 * ...delete their enrolments through storage...)`); sessions, tokens and
 * presence rows go by ON DELETE CASCADE already.
 */
export class AccountHooks {
  private readonly deleted: AccountDeletedListener[] = [];
  private readonly deactivated: Array<(userId: number) => Promise<void>> = [];

  /** Runs `listener` after an operator deactivated a user (the change committed; e.g. the bus event). */
  onUserDeactivated(listener: (userId: number) => Promise<void>): void {
    this.deactivated.push(listener);
  }

  /** Called by the lifecycle code after a deactivation committed; listeners run in order. */
  async userDeactivated(userId: number): Promise<void> {
    for (const listener of this.deactivated) await listener(userId);
  }

  /** Runs `listener` inside every transaction that deletes accounts, before the rows go. */
  onAccountDeleted(listener: AccountDeletedListener): void {
    this.deleted.push(listener);
  }

  /** Called by the lifecycle code; a listener that throws rolls the deletion back. */
  async accountDeleted(event: AccountDeletedEvent): Promise<void> {
    for (const listener of this.deleted) await listener(event);
  }
}
