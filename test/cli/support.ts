import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The published entry point, run as a user would. */
export const CLI = fileURLToPath(new URL('../../bin/curfew.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** The whole environment of the child (PATH is added). */
  readonly env: Readonly<Record<string, string>>;
  /** Piped to stdin (default: an empty, closed stdin). */
  readonly input?: string;
  readonly cwd?: string;
}

/** Runs `curfew <args>` in a child process; resolves when it exits. */
export function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs `curfew <args>` on a real pseudo-terminal (util-linux `script`), typing
 * `input` once the [y/N] question shows; resolves with everything the
 * terminal showed. Code 127 when `script` is missing.
 */
export function runCliOnTerminal(args: readonly string[], options: CliOptions & { readonly input: string }): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'dumb', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    let typed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // Type the answer once the question is on the screen (not before: the tty would echo it early).
      if (!typed && /\[y\/N\]/.test(stdout)) {
        typed = true;
        child.stdin.write(options.input);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve({ code: 127, stdout, stderr }) : reject(error)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Lines that parse as JSON objects (log lines). */
export function jsonLines(text: string): string[] {
  return text.split('\n').filter((line) => {
    if (!line.trim().startsWith('{')) return false;
    try {
      return typeof JSON.parse(line) === 'object';
    } catch {
      return false;
    }
  });
}
