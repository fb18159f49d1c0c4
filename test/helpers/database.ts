import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type TestEngine = 'sqlite' | 'postgres';

/** The default PostgreSQL for PostgreSQL-only tests when DATABASE_URL is not postgres. */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The engine this run tests: PostgreSQL when DATABASE_URL says so, else SQLite. */
export function testEngine(): TestEngine {
  return /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '') ? 'postgres' : 'sqlite';
}

export function postgresUrl(): string {
  return testEngine() === 'postgres' ? (process.env.DATABASE_URL as string) : (process.env.PG_TEST_URL ?? DEFAULT_PG_URL);
}

/** Resolves to a reason string when PostgreSQL cannot be reached, else undefined. */
export async function postgresUnavailable(url = postgresUrl()): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL not reachable at ${url.replace(/:[^:@/]*@/, ':***@')}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  readonly engine: TestEngine;
  /** Environment entries that point curfew at this database. */
  readonly env: Readonly<Record<string, string>>;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test file: a new SQLite file in a temp
 * folder, or a new schema in the PostgreSQL database (dropped afterwards).
 */
export async function createTestDatabase(engine: TestEngine = testEngine()): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'curfew-test-'));
    return {
      engine,
      env: { DATABASE_URL: `sqlite:${join(dir, 'curfew.db')}`, DATA_DIR: dir },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = postgresUrl();
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const dir = mkdtempSync(join(tmpdir(), 'curfew-test-'));
  return {
    engine,
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema, DATA_DIR: dir },
    async drop() {
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop schema if exists ${schema} cascade`);
      await dropper.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
