import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { redactDatabaseUrl } from '../../src/db/connection-error.js';
import { BASE_TEST_ENV, LogCapture, TEST_SECRET_KEY } from '../helpers/app.js';
import { createTestDatabase, postgresUnavailable, postgresUrl, type TestDatabase } from '../helpers/database.js';
import { runCli } from '../cli/support.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts an app on `databaseUrl`; resolves to the start-up error. */
async function startError(env: Record<string, string>): Promise<unknown> {
  const config = loadConfig({ env: { ...BASE_TEST_ENV, ...env }, secretKey: TEST_SECRET_KEY });
  try {
    const app = await createApp(config, { logDestination: new LogCapture() });
    try {
      await app.start({ listen: false, background: false });
    } finally {
      await app.stop();
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

function withUrl(base: string, change: (url: URL) => void): string {
  const url = new URL(base);
  change(url);
  return url.toString();
}

describe('database connection failures say what failed and how to fix it (bug: "migration (unknown) failed")', () => {
  let skip: string | undefined;
  before(async () => {
    skip = await postgresUnavailable();
  });

  const CASES: readonly { name: string; url: (base: string, port: number) => string; message: RegExp }[] = [
    { name: 'a database that does not exist', url: (b) => withUrl(b, (u) => (u.pathname = '/curfew_no_such_db')), message: /the database "curfew_no_such_db" does not exist on .*createdb .*curfew_no_such_db/ },
    { name: 'a role that does not exist', url: (b) => withUrl(b, (u) => (u.username = 'curfew_no_such_role')), message: /the role "curfew_no_such_role" does not exist .*createuser/ },
    { name: 'a port nothing listens on', url: (b, port) => withUrl(b, (u) => (u.port = String(port))), message: /nothing is listening on 127\.0\.0\.1:\d+ \(connection refused\)/ },
    { name: 'a host that does not resolve', url: (b) => withUrl(b, (u) => (u.hostname = 'curfew-db.invalid')), message: /the host "curfew-db\.invalid" cannot be resolved/ },
  ];
  for (const failure of CASES) {
    it(`PostgreSQL: ${failure.name}`, async (context) => {
      if (skip) return context.skip(skip);
      const url = withUrl(failure.url(postgresUrl(), await closedPort()), (u) => (u.password = 'hunter2-secret'));
      const error = await startError({ DATABASE_URL: url });
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.setting, 'DATABASE_URL');
      assert.match(error.message, failure.message);
      assert.ok(!error.message.includes('hunter2-secret'), 'the password is redacted');
      assert.match(error.message, /:\*\*\*@/);
    });
  }

  it('PostgreSQL: a role without permission to create tables', async (context) => {
    if (skip) return context.skip(skip);
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    const role = `curfew_weak_${process.pid}`;
    const schema = `curfew_locked_${process.pid}`;
    try {
      await admin.query(`create role ${role} login`);
      await admin.query(`create schema ${schema}`);
      await admin.query(`grant usage on schema ${schema} to ${role}`);
      const error = await startError({ DATABASE_URL: withUrl(postgresUrl(), (u) => ((u.username = role), (u.password = ''))), DATABASE_SCHEMA: schema });
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, /permission denied: .*GRANT CREATE, USAGE ON SCHEMA curfew_locked_\d+ TO "curfew_weak_\d+"/);
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    }
  });

  it('SQLite: a file that is not a database', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const file = join(database.env.DATA_DIR as string, 'not-a-db.db');
      writeFileSync(file, 'this is a text file, not SQLite, padded to look like a page '.repeat(100));
      const error = await startError({ DATABASE_URL: `sqlite:${file}` });
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, /is not a SQLite database/);
    } finally {
      await database.drop();
    }
  });

  it('the CLI prints it as one line, exit 78, no stack', async (context) => {
    if (skip) return context.skip(skip);
    const url = withUrl(postgresUrl(), (u) => (u.pathname = '/curfew_no_such_db'));
    const result = await runCli(['jobs', 'list'], { env: { ...BASE_TEST_ENV, SECRET_KEY: TEST_SECRET_KEY, DATABASE_URL: url } });
    assert.equal(result.code, 78, result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^curfew: configuration error: DATABASE_URL: the database "curfew_no_such_db" does not exist/);
  });

  it('redacts only the password', () => {
    assert.equal(redactDatabaseUrl('postgres://app:s3cret@db:5432/curfew'), 'postgres://app:***@db:5432/curfew');
    assert.equal(redactDatabaseUrl('postgres://app@db/curfew'), 'postgres://app@db/curfew');
  });
});

describe('a port in use: one line, no stack, before any background loop starts', () => {
  let database: TestDatabase;
  let blocker: Server;
  let port: number;
  before(async () => {
    database = await createTestDatabase();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await database.drop();
  });

  it('start() rejects with a ConfigError naming PORT and started no loop (bug: loops ran, then a stack)', async () => {
    const config = loadConfig({ env: { ...BASE_TEST_ENV, ...database.env, PORT: String(port), SCHEDULER: 'on' }, secretKey: TEST_SECRET_KEY });
    const app = await createApp(config, { logDestination: new LogCapture() });
    try {
      await assert.rejects(app.start(), (error: unknown) => error instanceof ConfigError && error.setting === 'PORT' && /already in use/.test(error.message));
      const heartbeats = await app.services.storage.db.selectFrom('presence_instances').selectAll().execute();
      assert.deepEqual(heartbeats, [], 'the presence heartbeat loop never ran');
    } finally {
      await app.stop();
    }
  });

  it('`curfew serve` exits 78 with one line on stderr', async () => {
    const result = await runCli(['serve'], { env: { ...BASE_TEST_ENV, ...database.env, SECRET_KEY: TEST_SECRET_KEY, PORT: String(port) } });
    assert.equal(result.code, 78, result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^curfew: configuration error: PORT: 127\\.0\\.0\\.1:${port} is already in use`));
  });
});
