import pg from 'pg';
import type { Storage } from '../../src/db/database.js';
import { postgresUrl, type TestDatabase } from './database.js';

/** One cron_runs row as the multi-process tests read it. */
export interface LedgerRow {
  readonly id: number;
  readonly job: string;
  readonly scheduled_for: number | null;
  readonly status: string;
  readonly trigger: string;
  readonly instance_id: string;
  readonly error: string | null;
}

/**
 * The run ledger rows of `job` in a PostgreSQL test schema, oldest first,
 * read over a connection of its own (the instances under test are other
 * processes). Empty before the schema is migrated. Poll it with
 * `eventually` instead of waiting for a time.
 */
export async function ledgerRows(database: TestDatabase, job: string): Promise<LedgerRow[]> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    const result = await client.query<LedgerRow>(
      `select id, job, scheduled_for::float8 as scheduled_for, status, trigger, instance_id, error from ${database.env.DATABASE_SCHEMA}.cron_runs where job = $1 order by id`,
      [job],
    );
    return result.rows;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return []; // not migrated yet
    throw error;
  } finally {
    await client.end();
  }
}

/** The current lease holder of `job`, or undefined (also before the schema is migrated). */
export async function leaseHolder(database: TestDatabase, job: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    const result = await client.query<{ holder: string }>(`select holder from ${database.env.DATABASE_SCHEMA}.job_leases where job = $1`, [job]);
    return result.rows[0]?.holder;
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return undefined;
    throw error;
  } finally {
    await client.end();
  }
}

/** A finished ledger row to write as if a run had happened (both engines, through the app's own storage). */
export interface PastRun {
  readonly job: string;
  readonly status: 'ok' | 'failed' | 'skipped' | 'timed_out';
  readonly startedAt: number;
  readonly durationMs: number;
  /** The slot; default: the start time (a scheduled run). Null: an ad-hoc run. */
  readonly scheduledFor?: number | null;
  readonly trigger?: 'schedule' | 'http' | 'cli' | 'catch-up';
  readonly counts?: Readonly<Record<string, number>>;
  readonly error?: string;
  /** The run's output (default none). */
  readonly output?: string;
  readonly instanceId?: string;
}

/**
 * Writes a finished run into `cron_runs` of a running app (SQLite or
 * PostgreSQL), e.g. an old success that makes a job late. Returns its id.
 */
export async function insertPastRun(storage: Storage, run: PastRun): Promise<number> {
  const row = await storage.db
    .insertInto('cron_runs')
    .values({
      job: run.job,
      scheduled_for: run.scheduledFor === undefined ? run.startedAt : run.scheduledFor,
      trigger: run.trigger ?? 'schedule',
      status: run.status,
      started_at: run.startedAt,
      finished_at: run.startedAt + run.durationMs,
      duration_ms: run.durationMs,
      counts: JSON.stringify(run.counts ?? {}),
      output: run.output ?? null,
      error: run.error ?? null,
      caller_ip: null,
      user_agent: null,
      request_id: null,
      instance_id: run.instanceId ?? 'test-helper',
      dry_run: 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}
