import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/** A loopback port that was free a moment ago (for a server that must listen on a known port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Polls `check` (every `intervalMs`, default 20) until it returns true, or
 * throws after `timeoutMs` (default 5000) naming `what`. For effects in other
 * processes or connections: wait for the state, never for a time.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** How long a child may take to say it listens. */
const START_TIMEOUT_MS = 120_000;

/** The environment every curfew child starts from: test mode, loopback, a port of its own. */
export const CHILD_BASE_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  SECRET_KEY: 'curfew-child-process-test-secret-key-0123456789abcdef',
  COOKIE_SECURE: 'false',
  LOG_LEVEL: 'info',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
};

/** The built-in jobs switched off, for tests that want only their own jobs in the ledger. */
export const BUILT_IN_JOBS_OFF: Readonly<Record<string, string>> = {
  JOB_CHECK_INACTIVE_USERS_ENABLED: 'false',
  JOB_SEQUENCE_TICK_ENABLED: 'false',
  JOB_CLEAR_EXPIRED_SESSIONS_ENABLED: 'false',
  JOB_FLUSH_EXPIRED_TOKENS_ENABLED: 'false',
  JOB_PRUNE_CRON_RUNS_ENABLED: 'false',
  JOB_PURGE_UNACTIVATED_ACCOUNTS_ENABLED: 'false',
};

export interface CurfewProcessOptions {
  /** Names the instance (INSTANCE_ID) and prefixes its output. */
  readonly name: string;
  /** Added to PATH, CHILD_BASE_ENV and INSTANCE_ID (the database's env goes here). */
  readonly env?: Readonly<Record<string, string>>;
  /** What to run with node (default `bin/curfew.js serve`). */
  readonly args?: readonly string[];
}

/**
 * A real curfew process started by a test (`node bin/curfew.js serve`), its
 * output kept for failure messages, its URL read from the `curfew
 * listening on` log line. Stopped only through its own PID.
 */
export class CurfewProcess {
  readonly child: ChildProcess;
  readonly output: string[] = [];
  /** Resolves with the base URL once the process logged that it listens (LOG_LEVEL info or lower). */
  readonly url: Promise<string>;

  constructor(readonly options: CurfewProcessOptions) {
    this.child = spawn(process.execPath, [...(options.args ?? ['bin/curfew.js', 'serve'])], {
      env: { PATH: process.env.PATH ?? '', ...CHILD_BASE_ENV, INSTANCE_ID: options.name, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.url = new Promise((resolve, reject) => {
      // Generous: on a loaded machine a cold start (tsx, migrations) takes seconds; this only bounds a hang.
      const timer = setTimeout(() => reject(new Error(`${options.name} did not log "curfew listening on" in ${START_TIMEOUT_MS} ms:\n${this.output.join('')}`)), START_TIMEOUT_MS);
      timer.unref();
      let seen = '';
      this.child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(`${options.name}: ${text}`);
        seen += text;
        const match = /curfew listening on (http:\/\/[^" ]+)/.exec(seen);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      this.child.stderr?.on('data', (chunk: Buffer) => this.output.push(`${options.name}: ${chunk.toString()}`));
      this.child.once('exit', (code, signal) => reject(new Error(`${options.name} exited (${String(code ?? signal)}) before listening:\n${this.output.join('')}`)));
    });
    // An instance stopped before it listened must not leave an unhandled rejection behind.
    this.url.catch(() => undefined);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` to this child (by its PID) and waits for it to exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await exited;
  }

  /** SIGTERM and wait (curfew drains running jobs first). */
  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}

/** Several curfew processes on one database, by name. */
export class CurfewCluster {
  readonly instances = new Map<string, CurfewProcess>();

  /** `args`: what each process runs with node (default `bin/curfew.js serve`; CURFEW_TEST_ENTRY adds the test-only jobs). */
  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly args?: readonly string[],
  ) {}

  start(names: readonly string[], env: Readonly<Record<string, string>> = {}): CurfewProcess[] {
    return names.map((name) => {
      const instance = new CurfewProcess({ name, env: { ...this.env, ...env }, ...(this.args ? { args: this.args } : {}) });
      this.instances.set(name, instance);
      return instance;
    });
  }

  get(name: string): CurfewProcess {
    const instance = this.instances.get(name);
    if (instance === undefined) throw new Error(`no instance ${name}`);
    return instance;
  }

  output(): string {
    return [...this.instances.values()].flatMap((instance) => instance.output).join('');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.instances.values()].map((instance) => instance.stop()));
  }
}
