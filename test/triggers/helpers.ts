import { sql } from 'kysely';
import type { TestApp } from '../helpers/app.js';
import type { HttpResponse } from '../helpers/http.js';

/** Two secrets, as after a rotation; both are active. */
export const SECRET = 'trigger-secret-0123456789abcdef-0123456789';
export const OLD_SECRET = 'previous-secret-fedcba9876543210-abcdefgh';

export type ErrorBody = { error?: { code: string; message: string } };

export function errorCode(response: HttpResponse<ErrorBody>): string | undefined {
  return response.body?.error?.code;
}

/**
 * Row counts of every table (migration bookkeeping aside): equal counts
 * before and after a batch of requests mean the requests wrote nothing.
 */
export async function rowCounts(t: TestApp): Promise<Record<string, number>> {
  const { db } = t.app.services.storage;
  const tables = await db.introspection.getTables();
  // On PostgreSQL introspection lists every schema: other test files' (and other runs') tables are not ours to count.
  const database = t.app.config.database;
  const schema = database.kind === 'postgres' ? (database.schema ?? 'public') : undefined;
  const counts: Record<string, number> = {};
  for (const table of tables) {
    if (table.name.startsWith('kysely_')) continue;
    if (schema !== undefined && table.schema !== schema) continue;
    const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table.name)}`.execute(db);
    counts[table.name] = Number(result.rows[0]?.n ?? 0);
  }
  return counts;
}

/** Fails when any captured log line of any app contains one of the secrets. */
export function assertNoSecretInLogs(apps: readonly TestApp[], secrets: readonly string[]): number {
  let lines = 0;
  for (const t of apps) {
    for (const line of t.logs.lines) {
      lines += 1;
      for (const secret of secrets) {
        if (line.includes(secret)) throw new Error(`a secret appears in a log line: ${line.replace(secret, '<SECRET>')}`);
      }
    }
  }
  return lines;
}
