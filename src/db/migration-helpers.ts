import type { CreateTableBuilder } from 'kysely';
import { sql } from 'kysely';
import type { Engine } from './database.js';

/** An auto-incrementing integer primary key that reads as a number on both engines. */
export function withIdColumn<T extends string>(builder: CreateTableBuilder<T, never>, engine: Engine, name = 'id') {
  return engine === 'postgres'
    ? builder.addColumn(name, 'bigint', (col) => col.primaryKey().generatedByDefaultAsIdentity())
    : builder.addColumn(name, 'integer', (col) => col.primaryKey().autoIncrement());
}

/** The column type for epoch-millisecond times and other large integers. */
export const bigint = 'bigint' as const;

/** `now` in epoch ms, for SQL defaults only; application code passes the clock's time. */
export function nowMs(engine: Engine) {
  return engine === 'postgres'
    ? sql`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql`(cast(unixepoch('subsec') * 1000 as integer))`;
}
