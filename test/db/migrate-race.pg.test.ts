import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { openStorage } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { postgresUrl } from '../helpers/database.js';
import { describePostgres, postgresMissing } from '../helpers/postgres-only.js';

const missing = await postgresMissing();

describePostgres('migrations while other schemas are dropped', missing, () => {
  const prefix = `race_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl() });
  before(async () => admin.connect());
  after(async () => {
    const left = await admin.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like '${prefix}%'`);
    for (const row of left.rows) await admin.query(`drop schema if exists ${row.nspname} cascade`);
    await admin.end();
  });

  it('migrates a fresh schema while another client keeps dropping schemas with tables', async () => {
    // Kysely's migrator introspects every schema; a schema dropped mid-query used to fail the migration (3F000).
    let dropping = true;
    const churn = (async () => {
      for (let i = 0; dropping; i += 1) {
        const schema = `${prefix}_churn_${i}`;
        await admin.query(`create schema ${schema}; create table ${schema}.t (id bigserial primary key, a text, b text, c text)`);
        await admin.query(`drop schema ${schema} cascade`);
        // Test files end one after another, not in a tight loop.
        await delay(5);
      }
    })();
    try {
      for (let round = 0; round < 8; round += 1) {
        const schema = `${prefix}_m${round}`;
        const storage = openStorage({ kind: 'postgres', url: postgresUrl(), schema, poolSize: 2 });
        try {
          const report = await migrateToLatest(storage, schema);
          assert.ok(report.applied.length > 0, `round ${round} applied the migrations`);
        } finally {
          await storage.close();
        }
      }
    } finally {
      dropping = false;
      await churn;
    }
  });
});
