import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A bench server in a child process on loopback. */
export interface ChildServer {
  readonly url: string;
  readonly pid: number | undefined;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `node --import tsx <script> <mode>` with `env` added to this process's
 * environment and waits (at most 60 s) for the `READY <url>` line it prints.
 */
export async function startChild(script: string, mode: string, env: Record<string, string> = {}): Promise<ChildServer> {
  // BENCH_CHILD_NODE_ARGS: extra node/V8 flags for every bench server (e.g. `--no-parallel-scavenge`), for diagnosis.
  const extra = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter((arg) => arg.length > 0);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', script, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${mode} did not start in 60 s`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${script} ${mode} exited with ${String(code)}`)));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        // From here on the child's stdout (its log lines at LOG_LEVEL=info) is
        // drained unread: a pipe, as under systemd or Docker, at the least cost to this process.
        lines.close();
        child.stdout?.resume();
        resolve(line.slice('READY '.length).trim());
      }
    });
  });
  return {
    url,
    pid: child.pid,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
