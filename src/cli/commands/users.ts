import type { Command } from 'commander';
import { isAppError } from '../../errors.js';
import { withApp } from '../run-app.js';
import { registerUserManagement } from './users-manage.js';

/** EX_DATAERR: the input was refused (bad email, short password, taken address). */
const EXIT_DATA_ERROR = 65;
/** EX_USAGE: the command cannot run as asked (no terminal to prompt on). */
const EXIT_USAGE = 64;

class CliInputError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Reads all of stdin; drops one trailing newline so `echo pw |` works. */
async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text === '') throw new CliInputError('no password on standard input', EXIT_DATA_ERROR);
  return text;
}

/** Asks on the terminal without echoing what is typed (the prompt goes to stderr). */
async function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  if (!stdin.isTTY) {
    throw new CliInputError('no terminal to ask for the password on; pipe it in with --password-stdin', EXIT_USAGE);
  }
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new CliInputError('cancelled', 130));
          return;
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}

async function askPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readPasswordFromStdin();
  const password = await promptHidden('Password: ');
  const again = await promptHidden('Password (again): ');
  if (password !== again) throw new CliInputError('the passwords do not match', EXIT_DATA_ERROR);
  return password;
}

interface CreateOptions {
  email: string;
  admin: boolean;
  passwordStdin: boolean;
}

/** `curfew users create --email x [--admin] [--password-stdin]`: an active account, as createsuperuser made. */
export function registerUsers(program: Command): void {
  const users = program.command('users').description('manage accounts');

  users
    .command('create')
    .description('create an active account (with --admin: an administrator), as Django\'s createsuperuser did')
    .requiredOption('--email <email>', 'the account\'s e-mail address')
    .option('--admin', 'give the account the admin role', false)
    .option('--password-stdin', 'read the password from standard input instead of prompting', false)
    .action(async (options: CreateOptions) => {
      try {
        const password = await askPassword(options.passwordStdin);
        const user = await withApp((app) =>
          app.services.accounts.createActiveUser({ email: options.email, password, role: options.admin ? 'admin' : 'user' }),
        );
        process.stdout.write(`Created ${user.role === 'admin' ? 'admin' : 'user'} account ${user.email} (id ${user.id}), active.\n`);
      } catch (error) {
        if (error instanceof CliInputError || isAppError(error)) {
          process.stderr.write(`curfew: ${error.message}\n`);
          process.exitCode = error instanceof CliInputError ? error.exitCode : EXIT_DATA_ERROR;
          return;
        }
        throw error;
      }
    });

  registerUserManagement(users);
}
