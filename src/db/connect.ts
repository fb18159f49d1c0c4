import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/index.js';
import type { Database, PreparedStatement, Storage } from './database.js';

const INT8_OID = 20;

/**
 * Opens the configured database. SQLite runs in WAL mode with a busy timeout
 * so the server and the CLI can share one file; PostgreSQL is pooled, and
 * BIGINT comes back as a JS number (our epoch-ms times fit in 2^53).
 */
export function openStorage(config: DatabaseConfig): Storage {
  if (config.kind === 'sqlite') return openSqlite(config.path);
  return openPostgres(config);
}

function openSqlite(path: string): Storage {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 10000');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.defaultSafeIntegers(false);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return storageOver(db, 'sqlite');
}

function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Storage {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    // Each connection works inside the configured schema (tests isolate per schema).
    ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    ...storageOver(db, 'postgres'),
    // pg keeps each name's parsed statement per pooled connection.
    async prepared<Row>(statement: PreparedStatement): Promise<Row[]> {
      const result = await pool.query({ name: statement.name, text: statement.text, values: [...statement.values] });
      return result.rows as Row[];
    },
  };
}

function storageOver(db: Kysely<Database>, engine: Storage['engine']): Storage {
  return {
    db,
    engine,
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await db.destroy();
    },
  };
}
