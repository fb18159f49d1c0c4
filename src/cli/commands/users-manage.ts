import type { Command } from 'commander';
import type { UserRow } from '../../db/repositories/users.js';
import { isAppError } from '../../errors.js';
import type { App } from '../../app.js';
import { withApp } from '../run-app.js';

/** EX_DATAERR: the input was refused (unknown user, bad value). */
const EXIT_DATA_ERROR = 65;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(Number(ms)).toISOString());

/** One account's state in words. */
export function stateOf(user: UserRow): 'active' | 'deactivated' | 'unactivated' {
  if (user.deactivated_at !== null) return 'deactivated';
  return user.activated_at === null ? 'unactivated' : 'active';
}

function describeUser(user: UserRow): string {
  return [
    `id:            ${user.id}`,
    `email:         ${user.email}`,
    `role:          ${user.role}`,
    `state:         ${stateOf(user)}`,
    `created:       ${iso(user.created_at)}`,
    `activated:     ${iso(user.activated_at)}`,
    `deactivated:   ${iso(user.deactivated_at)}`,
    `last login:    ${iso(user.last_login_at)}`,
    '',
  ].join('\n');
}

/** A refused CLI value: reported like an AppError. */
class CliValueError extends Error {}

/** Runs `fn` with a one-shot app; refusals (AppError, CliValueError) become one stderr line and exit 65. */
async function run(fn: (app: App) => Promise<string>): Promise<void> {
  try {
    process.stdout.write(await withApp(fn));
  } catch (error) {
    if (isAppError(error) || error instanceof CliValueError) {
      process.stderr.write(`curfew: ${error.message}\n`);
      process.exitCode = EXIT_DATA_ERROR;
      return;
    }
    throw error;
  }
}

interface ListOptions {
  q?: string;
  role?: 'user' | 'admin';
  active?: boolean;
  inactive?: boolean;
  page: string;
}

/**
 * `curfew users list|show|deactivate|activate|set-role|resend-activation`:
 * the admin API's user management for operators, through the same services.
 * Human lines on stdout; refusals on stderr with exit 65.
 */
export function registerUserManagement(users: Command): void {
  users
    .command('list')
    .description('list accounts by id (50 a page), optionally searching the e-mail and filtering')
    .option('-q, --q <text>', 'part of the e-mail address')
    .option('--role <role>', 'user or admin')
    .option('--active', 'only accounts that can sign in')
    .option('--inactive', 'only unactivated or deactivated accounts')
    .option('--page <n>', 'page number', '1')
    .action((options: ListOptions) =>
      run(async (app) => {
        if (options.role !== undefined && options.role !== 'user' && options.role !== 'admin') throw new CliValueError('--role must be user or admin');
        if (!/^[1-9][0-9]{0,6}$/.test(options.page)) throw new CliValueError('--page must be a whole number from 1');
        const page = await app.services.lifecycle.admin.list({
          q: options.q,
          role: options.role,
          active: options.active ? true : options.inactive ? false : undefined,
          page: Number(options.page),
        });
        const lines = page.users.map((user) => `${String(user.id).padStart(6)}  ${user.role.padEnd(5)}  ${stateOf(user).padEnd(11)}  ${user.email}`);
        const pages = Math.max(1, Math.ceil(page.total / page.perPage));
        return `${lines.join('\n')}${lines.length > 0 ? '\n' : ''}${page.total} account(s), page ${page.page} of ${pages}\n`;
      }),
    );

  users
    .command('show <user>')
    .description('one account, by id or e-mail')
    .action((user: string) => run(async (app) => describeUser(await app.services.lifecycle.admin.find(user))));

  users
    .command('deactivate <user>')
    .description('refuse logins and end every session of an account (by id or e-mail)')
    .action((user: string) =>
      run(async (app) => {
        const found = await app.services.lifecycle.admin.find(user);
        const after = await app.services.lifecycle.admin.update(found.id, { active: false });
        return `Deactivated ${after.email} (id ${after.id}); every session has been ended.\n`;
      }),
    );

  users
    .command('activate <user>')
    .description('reactivate a deactivated account, or activate one whose link was never used')
    .action((user: string) =>
      run(async (app) => {
        const found = await app.services.lifecycle.admin.find(user);
        const after = await app.services.lifecycle.admin.update(found.id, { active: true });
        return `Activated ${after.email} (id ${after.id}).\n`;
      }),
    );

  users
    .command('set-role <user> <role>')
    .description('make an account user or admin (demotion ends its sessions)')
    .action((user: string, role: string) =>
      run(async (app) => {
        if (role !== 'user' && role !== 'admin') throw new CliValueError('role must be user or admin');
        const found = await app.services.lifecycle.admin.find(user);
        const after = await app.services.lifecycle.admin.update(found.id, { role });
        return `${after.email} (id ${after.id}) is now ${after.role}.\n`;
      }),
    );

  users
    .command('resend-activation <email>')
    .description('send a new activation link to an account that was never activated (the old link stops working)')
    .action((email: string) =>
      run(async (app) => {
        const outcome = await app.services.lifecycle.recovery.resendActivation(email);
        // The one-shot app has no background sender: deliver now (SMTP) or write the .eml.
        if (outcome === 'sent') await app.services.mail.sendDueNow();
        switch (outcome) {
          case 'sent':
            return `Sent a new activation link to ${email.trim().toLowerCase()}; earlier links no longer work.\n`;
          case 'already-active':
            throw new CliValueError(`${email} is already active; nothing sent`);
          case 'deactivated':
            throw new CliValueError(`${email} is deactivated; run \`curfew users activate ${email}\` instead`);
          case 'unknown':
            throw new CliValueError(`no account ${email}`);
        }
      }),
    );
}
