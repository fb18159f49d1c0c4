import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
  // BENCH_CHILD_STDOUT_FILE=1: the child's stdout (its log lines) goes to a temp file instead of a pipe this
  // process drains, to tell the server's logging cost from the reader's (diagnosis; issue 15's RESULTS).
  const stdoutFile = process.env.BENCH_CHILD_STDOUT_FILE === '1' ? join(mkdtempSync(join(tmpdir(), 'bench-child-')), 'stdout.log') : undefined;
  const stdoutFd = stdoutFile === undefined ? undefined : openSync(stdoutFile, 'w');
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', script, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', stdoutFd ?? 'pipe', 'inherit'],
  });
  if (stdoutFd !== undefined) closeSync(stdoutFd); // the child has its own copy
  const url = stdoutFile !== undefined ? await readyFromFile(stdoutFile, child, `${script} ${mode}`) : await new Promise<string>((resolve, reject) => {
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
          if (stdoutFile !== undefined) rmSync(dirname(stdoutFile), { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Waits (at most 60 s) for the `READY <url>` line in a child's stdout file. */
async function readyFromFile(path: string, child: ChildProcess, name: string): Promise<string> {
  for (let waited = 0; waited < 60_000; waited += 100) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${String(child.exitCode)}`);
    const match = /^READY (\S+)$/m.exec(readFileSync(path, 'utf8'));
    if (match?.[1] !== undefined) return match[1];
    await sleep(100);
  }
  throw new Error(`${name} did not start in 60 s`);
}

