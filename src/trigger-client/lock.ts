import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Why not a lock-file library (issue 15 §4; proper-lockfile 4.x read, the usual choice):
// - its stale takeover is stat, rmdir, mkdir: two launches that both judge a lock
//   stale can both win (the second removes the first one's fresh lock). That race
//   is the subtle half; removeIfStale below closes it (rename aside, compare inode).
// - its mtime refresh timer is for locks held long; ours is held for one read and
//   one write of `<lock>.last`, never across the HTTP call.
// - it checks no PIDs either (a PID means nothing across containers); mkdir instead
//   of O_EXCL only matters on NFSv2, and the default lock lives in os.tmpdir().
// - it would change what is on disk (a directory: a lock file a crash of today's
//   version left behind fails its rmdir with ENOTDIR, as does the stale-lock test's
//   file) and add exit handlers and three dependencies.

/**
 * Seed 000's "not launched in the last 59 seconds" guard, safe under
 * concurrent launches.
 *
 * Two files: `<lock>` is a mutex created with O_CREAT|O_EXCL (only one process
 * can create it), held only while reading and writing `<lock>.last`, the time
 * of the last launch. So of two launches at the same instant exactly one
 * records itself and calls; the other either finds the mutex taken or finds
 * the fresh timestamp, and skips. The mutex is never held during the HTTP call,
 * so a crash mid-call cannot block later launches; a mutex left by a crash
 * between open and unlink is stale after `staleMs` and is taken over.
 */
export interface LaunchGuardOptions {
  readonly lockFile: string;
  /** Skip when the last launch is younger than this. */
  readonly minIntervalMs: number;
  /** Current time in ms (injected for tests). */
  readonly now: () => number;
  /** A mutex file older than this is left over from a crash (default 30 s). */
  readonly staleMs?: number;
}

export type LaunchDecision =
  | { readonly launch: true }
  | { readonly launch: false; readonly reason: string };

/** `<tmpdir>/curfew-trigger-<sha256(url, job) prefix>.lock`: one guard per target. */
export function defaultLockFile(url: string, job: string): string {
  const key = createHash('sha256').update(`${url}\n${job}`).digest('hex').slice(0, 16);
  return join(tmpdir(), `curfew-trigger-${key}.lock`);
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function removeIfStale(path: string, nowMs: number, staleMs: number): Promise<boolean> {
  try {
    const info = await stat(path);
    if (nowMs - info.mtimeMs < staleMs) return false;
    // Rename rather than unlink: of two processes that both saw the stale
    // file only one rename finds it. If what we moved is not the file we
    // judged stale (another process replaced it meanwhile), put it back.
    const aside = `${path}.stale-${process.pid}`;
    await rename(path, aside);
    const moved = await stat(aside);
    if (moved.ino !== info.ino) {
      await link(aside, path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      await unlink(aside);
      return false;
    }
    await unlink(aside);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function lastLaunch(stampFile: string): Promise<number | undefined> {
  try {
    const value = Number((await readFile(stampFile, 'utf8')).trim());
    return Number.isFinite(value) ? value : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Decides whether this launch may call. Records the launch time when it may.
 * Under concurrent invocation at most one caller per interval gets `launch: true`.
 */
export async function claimLaunch(options: LaunchGuardOptions): Promise<LaunchDecision> {
  const { lockFile, minIntervalMs, now } = options;
  const staleMs = options.staleMs ?? 30_000;
  const stampFile = `${lockFile}.last`;
  const owner = JSON.stringify({ pid: process.pid, at: now() });
  let created = await tryCreate(lockFile, owner);
  if (!created && (await removeIfStale(lockFile, now(), staleMs))) created = await tryCreate(lockFile, owner);
  if (!created) return { launch: false, reason: `another launch holds ${lockFile}; skipping` };
  try {
    const last = await lastLaunch(stampFile);
    const current = now();
    if (last !== undefined && current - last < minIntervalMs && current >= last) {
      const ago = Math.round((current - last) / 1000);
      return { launch: false, reason: `last launch was ${ago}s ago (min interval ${Math.round(minIntervalMs / 1000)}s); skipping` };
    }
    await writeFile(stampFile, `${current}\n`, { mode: 0o600 });
    return { launch: true };
  } finally {
    await unlink(lockFile).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}
