import { sql, type Expression, type SqlBool } from 'kysely';
import type { Engine } from './database.js';

/**
 * `column IN (subquery)` for batched updates and deletes. On PostgreSQL it is
 * spelled `column = any(array(subquery))`: the batch is materialised first and
 * the outer statement goes by the index on `column`; a plain IN let the
 * planner pick a hash semi-join over a full scan of the table for every batch
 * (docs/maintenance.md shows both plans).
 */
export function inBatch<T>(engine: Engine, column: string, subquery: Expression<T>): Expression<SqlBool> {
  return engine === 'postgres' ? sql<SqlBool>`${sql.ref(column)} = any(array(${subquery}))` : sql<SqlBool>`${sql.ref(column)} in (${subquery})`;
}
