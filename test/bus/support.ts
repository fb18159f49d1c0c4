import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, type Subscription } from 'nats';

/** The machine's NATS (never stopped by tests). */
export const MACHINE_NATS = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** A reason string when NATS cannot be reached, else undefined (tests skip with it). */
export async function natsUnavailable(url = MACHINE_NATS): Promise<string | undefined> {
  try {
    const nc = await connect({ servers: url, timeout: 2000, reconnect: false });
    await nc.close();
    return undefined;
  } catch (error) {
    return `NATS not reachable at ${url}: ${(error as Error).message}`;
  }
}

/** A subject prefix of its own per test file, so parallel test files never answer each other's requests. */
export function testPrefix(): string {
  return `curfewtest.${randomBytes(5).toString('hex')}`;
}

/** Polls `check` until it is true (bounded by `limitMs`), for state reached through other processes. */
export async function eventually(check: () => boolean | Promise<boolean>, limitMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Collects messages on a subject (a wildcard is fine) from the moment of the call. */
export class EventSink {
  readonly messages: Array<{ subject: string; data: Record<string, unknown>; id: string | undefined }> = [];
  private readonly subscription: Subscription;

  constructor(nc: NatsConnection, subject: string) {
    this.subscription = nc.subscribe(subject, {
      callback: (_error, msg) => {
        this.messages.push({ subject: msg.subject, data: JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown>, id: msg.headers?.get('Nats-Msg-Id') });
      },
    });
  }

  on(subject: string) {
    return this.messages.filter((message) => message.subject === subject);
  }

  /** Waits until a message on `subject` matching `match` arrived; returns it. */
  async next(subject: string, match: (data: Record<string, unknown>) => boolean = () => true, limitMs = 20_000) {
    let found: (typeof this.messages)[number] | undefined;
    await eventually(() => (found = this.on(subject).find((message) => match(message.data))) !== undefined, limitMs, `an event on ${subject}`);
    return found as (typeof this.messages)[number];
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A NATS server of the test's own on a free loopback port with its own
 * JetStream store, which the test may stop and start again (by its PID; the
 * machine's NATS is never touched). Same port across restarts, so clients reconnect.
 */
export class OwnNats {
  private child: ChildProcess | undefined;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'curfew-nats-'));
  private constructor(readonly port: number) {}

  static available(): string | undefined {
    return existsSync(NATS_SERVER_BIN) ? undefined : `${NATS_SERVER_BIN} not found (set NATS_SERVER_BIN)`;
  }

  static async start(): Promise<OwnNats> {
    const nats = new OwnNats(await freePort());
    await nats.start();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    this.child = child;
    await eventually(async () => (await natsUnavailable(this.url)) === undefined, 10_000, `own nats-server on ${this.port}`);
  }

  /** Stops the server (SIGTERM to its PID) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid as number, 'SIGTERM');
    await exited;
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Spawns `curfew serve` with `env`, resolving with its URL once it listens; stop() by PID. */
export async function spawnCurfew(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; output: string[]; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['bin/curfew.js', 'serve'], {
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let url: string | undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    const match = /"url":"(http:\/\/[^"]+)"/.exec(text);
    if (match?.[1]) url = match[1];
  });
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  try {
    // Start-up compiles the app through tsx and migrates: slow on a loaded 2-core machine.
    await eventually(() => url !== undefined || child.exitCode !== null, 60_000, 'curfew serve to listen');
  } catch (error) {
    // A child left running keeps this test process alive for ever (its pipes): stop it first.
    child.kill('SIGKILL');
    throw error;
  }
  if (url === undefined) throw new Error(`curfew serve exited: ${output.join('')}`);
  return {
    url,
    child,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid as number, 'SIGTERM');
      await exited;
    },
  };
}

/** The value of one Prometheus sample line, e.g. metric(text, 'curfew_bus_verify_requests_total{result="valid"}'). */
export function metric(text: string, sample: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
