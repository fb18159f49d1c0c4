import { sql, type RawBuilder } from 'kysely';
import type { Engine } from './database.js';

/**
 * A column used only as a guard in a statement that finds its rows by id
 * (`WHERE id IN (…) AND status = 'active'`). On SQLite it is spelled
 * `+column`: the unary plus keeps the planner from using an index led by that
 * column, which it otherwise prefers to an id list when it has no statistics,
 * and which visits every row with that value (every active enrollment, for a
 * batch of 200) instead of the 200 rows. The guard still applies to each row.
 * PostgreSQL plans from its statistics and has no unary plus for text.
 */
export function guardColumn<T>(engine: Engine, column: string): RawBuilder<T> {
  return engine === 'sqlite' ? sql<T>`+${sql.ref(column)}` : sql<T>`${sql.ref(column)}`;
}
