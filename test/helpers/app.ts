import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdef0123456789abcdef';

/** Every log line an app wrote, for assertions (e.g. "no secret is ever logged"). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    callback();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestAppOptions {
  /** Extra environment variables (config names as in the README). */
  readonly env?: Readonly<Record<string, string>>;
  /** Defaults to the system clock; pass a TestClock to move time. */
  readonly clock?: Clock;
  /** Share a database with another test app (multi-instance tests). */
  readonly database?: TestDatabase;
  /** Run background loops (mail sender, scheduler). Default false. */
  readonly background?: boolean;
  /** Jobs beside the built-ins, from the loaded config (e.g. `testJobs` from ./test-jobs.js). Default none. */
  readonly extraJobs?: (config: Config) => readonly JobDefinition[];
}

export interface TestApp {
  readonly app: App;
  readonly url: string;
  readonly logs: LogCapture;
  readonly database: TestDatabase;
  stop(): Promise<void>;
}

/** Fast argon2 parameters and plain-HTTP cookies for tests. */
export const BASE_TEST_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  COOKIE_SECURE: 'false',
  SCHEDULER: 'off',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
};

/** Starts a real curfew on a loopback port over a fresh (or shared) database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    env: { ...BASE_TEST_ENV, ...database.env, ...options.env },
    secretKey: TEST_SECRET_KEY,
  });
  const logs = new LogCapture();
  const app = await createApp(config, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.extraJobs ? { extraJobs: options.extraJobs(config) } : {}),
    logDestination: logs,
  });
  await app.start({ background: options.background ?? false });
  return {
    app,
    url: app.url as string,
    logs,
    database,
    async stop() {
      await app.stop();
      if (!options.database) await database.drop();
    },
  };
}
