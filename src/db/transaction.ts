import type { Storage } from './database.js';

/**
 * Runs `fn` in one database transaction. `fn` receives a Storage whose `db` is
 * the transaction, so any repository built on it (`new UsersRepository(tx)`)
 * writes inside the transaction. Commits when `fn` resolves, rolls back when
 * it throws (the error is rethrown unchanged).
 */
export async function transaction<T>(storage: Storage, fn: (tx: Storage) => Promise<T>): Promise<T> {
  return storage.db.transaction().execute(async (trx) =>
    fn({
      db: trx,
      engine: storage.engine,
      ping: () => storage.ping(),
      close: async () => {
        throw new Error('a transaction view of the storage cannot be closed');
      },
    }),
  );
}
