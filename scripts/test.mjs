#!/usr/bin/env node
// Runs every test file under test/ with node's own test runner and tsx.
// Node 20's `--test` does not discover *.ts files itself, so we list them.
// Extra arguments narrow the run: `npm test -- test/config` runs that folder.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      if (entry === 'helpers' || entry === 'fixtures') continue;
      collect(join(path, entry), out);
    }
  } else if (/\.test\.ts$/.test(path)) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['test']).flatMap((root) => collect(root, []));
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// Say what the run covers before it starts: the engine, and where PostgreSQL-only tests go.
const postgresRun = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '');
const pgOnly = postgresRun ? 'DATABASE_URL' : `PG_TEST_URL (${process.env.PG_TEST_URL ? 'set' : 'default postgres://postgres@127.0.0.1:5432/test'})`;
const required = process.env.REQUIRE_PG === '1' || process.env.REQUIRE_PG === 'true';
process.stdout.write(
  `curfew tests: ${files.length} files on ${postgresRun ? 'PostgreSQL' : 'SQLite'}; *.pg.test.ts use ${pgOnly}; ` +
    `without PostgreSQL they ${required ? 'FAIL (REQUIRE_PG=1)' : 'are counted as skipped (REQUIRE_PG=1 fails instead)'}\n`,
);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test' } },
);
process.exit(result.status ?? 1);
