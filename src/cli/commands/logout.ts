import { appendFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isAppError } from '../../errors.js';
import type { Progress, RunSummary } from '../../jobs/types.js';
import { confirmOnTerminal, exclusionProblems } from '../logout-checks.js';
import { withApp } from '../run-app.js';
import { seedTimestamp } from '../seed-log.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** EX_USAGE: the command cannot run as asked (bad exclusion, no confirmation possible). */
const EXIT_USAGE = 64;

/** A live progress bar on a TTY (stderr); nothing otherwise. */
function progressBar(): { update(progress: Progress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    update(progress) {
      if (!tty) return;
      const share = progress.total ? Math.min(1, progress.done / progress.total) : 0;
      const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
      const total = progress.total === undefined ? '' : `/${progress.total}`;
      process.stderr.write(`\r\x1b[2K[${bar}] ${progress.done}${total} ${progress.message ?? ''}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}

/** Seed 003's two result lines (three with exclusions). */
function resultLines(summary: RunSummary, dryRun: boolean): string[] {
  const c = summary.counts;
  const lines = dryRun
    ? [`Dry run: would log out all users by revoking ${c.would_revoke ?? 0} session(s)`, `Would also clean up ${c.would_clean ?? 0} expired session(s)`]
    : [`Successfully logged out all users by revoking ${c.revoked ?? 0} session(s)`, `Also cleaned up ${c.cleaned ?? 0} expired session(s)`];
  if ((c.excluded_users ?? 0) > 0) lines.push(`Kept ${c.excluded_users} excluded user(s) signed in`);
  return lines;
}

interface LogoutFlags {
  dryRun?: boolean;
  yes?: boolean;
  logFile?: string;
  excludeRole: string[];
  excludeUser: string[];
}

/**
 * Where the command's lines go: stdout, or (with --log-file) appended to a file
 * between seed 003's stamped "Running daily user logout..." and "Daily logout
 * completed successfully" / "Daily logout failed" lines.
 */
function output(logFile: string | undefined, now: () => number) {
  const lines: string[] = [];
  return {
    start() {
      if (logFile !== undefined) lines.push(`${seedTimestamp(now())}: Running daily user logout...`);
    },
    line(text: string) {
      if (logFile === undefined) process.stdout.write(`${text}\n`);
      else lines.push(text);
    },
    async finish(ok: boolean) {
      if (logFile === undefined) return;
      lines.push(`${seedTimestamp(now())}: ${ok ? 'Daily logout completed successfully' : 'Daily logout failed'}`);
      await appendFile(logFile, `${lines.join('\n')}\n`, { mode: 0o600 });
    },
  };
}

/**
 * `curfew logout-all-users [--dry-run] [--yes] [--log-file F] [--exclude-role R]... [--exclude-user EMAIL]...`:
 * runs the logout-all-users job now through the runner (lease, ledger, trigger
 * cli), with these exclusions added to JOB_LOGOUT_ALL_USERS_EXCLUDE_*. Asks
 * for confirmation on a terminal unless --yes or --dry-run; without a terminal
 * --yes is required. An exclusion that matches nothing is refused. Prints the
 * seed's lines on stdout (logs go to stderr). Exit 0 ok, 1 failed, 64 usage
 * (bad exclusion, not confirmed), 75 running elsewhere.
 */
export function registerLogout(program: Command): void {
  program
    .command('logout-all-users')
    .description('revoke every live session (except excluded users) and clean up expired ones')
    .option('--dry-run', 'print the counts it would act on; change nothing')
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal, e.g. in crontab)')
    .option('--log-file <path>', "append seed 003's timestamped lines to this file instead of printing them")
    .option('--exclude-role <role>', 'keep users with this role signed in (repeatable)', collect, [])
    .option('--exclude-user <email>', 'keep this user signed in (repeatable)', collect, [])
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 64 usage (unknown exclusion, not confirmed), 75 running elsewhere.')
    .action(async (options: LogoutFlags) => {
      const code = await withApp(async (app) => {
        const dryRun = options.dryRun === true;
        const problems = await exclusionProblems(app.services.users, options.excludeRole, options.excludeUser);
        if (problems.length > 0) {
          for (const problem of problems) process.stderr.write(`curfew logout-all-users: ${problem}\n`);
          return EXIT_USAGE;
        }
        if (!dryRun && options.yes !== true) {
          const answer = await confirmOnTerminal('Log out every user now (revoke all live sessions except the exclusions)?');
          if (answer === undefined) {
            process.stderr.write('curfew logout-all-users: no terminal to confirm on; pass --yes to log everybody out (or --dry-run to count)\n');
            return EXIT_USAGE;
          }
          if (!answer) {
            process.stderr.write('curfew logout-all-users: not confirmed; nothing changed\n');
            return EXIT_USAGE;
          }
        }
        const out = output(options.logFile, () => app.clock.now());
        out.start();
        const bar = progressBar();
        try {
          const summary = await app.services.jobs.runJob('logout-all-users', {
            dryRun,
            trigger: 'cli',
            caller: { userAgent: 'curfew-cli' },
            onProgress: (update) => bar.update(update),
            params: { excludeRoles: options.excludeRole, excludeUsers: options.excludeUser },
          });
          bar.done();
          if (summary.status !== 'ok') {
            const detail = `logout-all-users ${summary.status}${summary.reason ? `: ${summary.reason}` : ''}${summary.error ? `: ${summary.error}` : ''}`;
            process.stderr.write(`curfew: ${detail}\n`);
            out.line(detail);
            await out.finish(false);
            return summary.status === 'skipped' ? 75 : 1;
          }
          for (const line of resultLines(summary, dryRun)) out.line(line);
          await out.finish(true);
          return 0;
        } catch (error) {
          bar.done();
          if (isAppError(error)) {
            process.stderr.write(`curfew: ${error.message}\n`);
            out.line(error.message);
            await out.finish(false);
            return 1;
          }
          throw error;
        }
      });
      process.exitCode = code;
    });
}
