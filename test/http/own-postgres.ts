import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries installed the Debian way, if any. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')) && existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A PostgreSQL cluster of the test's own (initdb in a temp folder, a free
 * loopback port, trust auth), so a test can stop and restart a database
 * server without touching the machine's cluster on 5432. As root the
 * binaries run as the `postgres` user (initdb refuses root).
 */
export class OwnPostgres {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly asUser: string | undefined,
  ) {}

  /** Creates and starts a cluster, or resolves to the reason it cannot. */
  static async create(): Promise<OwnPostgres | string> {
    const bin = binDir();
    if (bin === undefined) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin';
    const asUser = process.getuid?.() === 0 ? 'postgres' : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'curfew-own-pg-'));
    try {
      if (asUser !== undefined) {
        const { stdout } = await run('id', ['-u', asUser]);
        const { stdout: gid } = await run('id', ['-g', asUser]);
        chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
        chmodSync(dir, 0o700);
      }
      const cluster = new OwnPostgres(bin, dir, await freePort(), asUser);
      await cluster.exec('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
      await cluster.start();
      return cluster;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      return `could not start an own PostgreSQL cluster: ${(error as Error).message.split('\n')[0] ?? ''}`;
    }
  }

  /** postgres://postgres@127.0.0.1:<port>/postgres */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async exec(tool: string, args: readonly string[]): Promise<void> {
    const command = join(this.bin, tool);
    if (this.asUser === undefined) await run(command, [...args]);
    else await run('runuser', ['-u', this.asUser, '--', command, ...args]);
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off`;
    await this.exec('pg_ctl', ['-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'log'), '-w', 'start']);
  }

  /** Stops the server (fast mode: open connections are terminated), and waits until it is down. */
  async stop(): Promise<void> {
    await this.exec('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  /** Stops the server if it runs and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
