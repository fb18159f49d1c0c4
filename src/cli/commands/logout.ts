import type { Command } from 'commander';
import { isAppError } from '../../errors.js';
import type { Progress } from '../../jobs/types.js';
import { withApp } from '../run-app.js';

const collect = (value: string, previous: string[]) => [...previous, value];

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

/**
 * `curfew logout-all-users [--dry-run] [--exclude-role R]... [--exclude-user EMAIL]...`:
 * runs the logout-all-users job now through the runner (lease, ledger, trigger
 * cli), with these exclusions added to JOB_LOGOUT_ALL_USERS_EXCLUDE_*. Prints
 * the seed's two lines. Exit 0 ok, 1 failed, 75 running elsewhere.
 */
export function registerLogout(program: Command): void {
  program
    .command('logout-all-users')
    .description('revoke every live session (except excluded users) and clean up expired ones')
    .option('--dry-run', 'print the counts it would act on; change nothing')
    .option('--exclude-role <role>', 'keep users with this role signed in (repeatable)', collect, [])
    .option('--exclude-user <email>', 'keep this user signed in (repeatable)', collect, [])
    .action(async (options: { dryRun?: boolean; excludeRole: string[]; excludeUser: string[] }) => {
      const code = await withApp(async (app) => {
        const bar = progressBar();
        const dryRun = options.dryRun === true;
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
            process.stderr.write(`curfew: logout-all-users ${summary.status}${summary.reason ? `: ${summary.reason}` : ''}${summary.error ? `: ${summary.error}` : ''}\n`);
            return summary.status === 'skipped' ? 75 : 1;
          }
          const c = summary.counts;
          if (dryRun) {
            process.stdout.write(`Dry run: would log out all users by revoking ${c.would_revoke ?? 0} session(s)\n`);
            process.stdout.write(`Would also clean up ${c.would_clean ?? 0} expired session(s)\n`);
          } else {
            process.stdout.write(`Successfully logged out all users by revoking ${c.revoked ?? 0} session(s)\n`);
            process.stdout.write(`Also cleaned up ${c.cleaned ?? 0} expired session(s)\n`);
          }
          if ((c.excluded_users ?? 0) > 0) process.stdout.write(`Kept ${c.excluded_users} excluded user(s) signed in\n`);
          return 0;
        } catch (error) {
          bar.done();
          if (isAppError(error)) {
            process.stderr.write(`curfew: ${error.message}\n`);
            return 1;
          }
          throw error;
        }
      });
      process.exitCode = code;
    });
}
