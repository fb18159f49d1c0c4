import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresUnavailable, postgresUrl } from './database.js';

/**
 * Why this run has no PostgreSQL for PostgreSQL-only tests (`*.pg.test.ts`),
 * or undefined when it has one. They use DATABASE_URL on a PostgreSQL run,
 * else PG_TEST_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
export async function postgresMissing(): Promise<string | undefined> {
  return postgresUnavailable(postgresUrl());
}

/** True when a missing PostgreSQL must fail the run (`REQUIRE_PG=1`, set by CI) instead of skipping. */
export function postgresRequired(): boolean {
  return process.env.REQUIRE_PG === '1' || process.env.REQUIRE_PG === 'true';
}

/**
 * `describe` for a PostgreSQL-only suite. With PostgreSQL (`missing`
 * undefined) it is `describe(name, body)`. Without, the suite still shows
 * in the count: as one skipped test carrying the reason, printed too; or,
 * under REQUIRE_PG=1, as one failing test, so CI without its database fails
 * instead of passing by skipping.
 */
export function describePostgres(name: string, missing: string | undefined, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  if (postgresRequired()) {
    describe(name, () => {
      it('needs PostgreSQL (REQUIRE_PG=1)', () => assert.fail(`REQUIRE_PG=1 but ${missing}`));
    });
    return;
  }
  console.log(`skipping "${name}": ${missing} (set PG_TEST_URL, or REQUIRE_PG=1 to fail instead)`);
  describe(name, () => {
    it('needs PostgreSQL', { skip: missing }, () => undefined);
  });
}

/**
 * `describe` for a suite that needs something this machine may lack (a
 * browser, a tool): without it (`missing` is the reason) the suite counts as
 * one skipped test carrying the reason, printed too, instead of vanishing
 * from the count.
 */
export function describeIfAvailable(name: string, missing: string | undefined, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  console.log(`skipping "${name}": ${missing}`);
  describe(name, () => {
    it('needs what is missing', { skip: missing }, () => undefined);
  });
}
