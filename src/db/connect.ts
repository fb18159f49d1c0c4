import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return storageOver(db, 'sqlite');
}

/** Distinct SQL texts kept prepared; curfew issues a few hundred. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * better-sqlite3 as Kysely's SQLite driver sees it, with statements reused
 * by SQL text: the driver prepares on every query, and preparing cost about
 * as much as running most of curfew's queries. Bounded (oldest out first);
 * a statement still being iterated by a stream is never handed out twice.
 * SQLite re-prepares a statement itself when the schema changes.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text) {
      const cached = statements.get(text);
      if (cached !== undefined && !cached.busy) return cached;
      const statement = database.prepare(text);
      if (cached === undefined) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      return statement;
    },
  };
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
