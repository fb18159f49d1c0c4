import { createInterface } from 'node:readline/promises';

/** The roles an account can have (src/db/schema/users.ts); an exclusion naming another role is a typo. */
export const ACCOUNT_ROLES: readonly string[] = ['user', 'admin'];

/** What the checks need to look accounts up (UsersRepository fits). */
export interface AccountLookup {
  findByEmail(email: string): Promise<unknown>;
}

/**
 * The problems with `--exclude-role` / `--exclude-user` values: a role no
 * account can have, an e-mail that matches no account. Empty when all is well.
 * A silently ignored exclusion would log out exactly the people the operator
 * meant to keep signed in.
 */
export async function exclusionProblems(users: AccountLookup, roles: readonly string[], emails: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const role of roles) {
    if (!ACCOUNT_ROLES.includes(role)) problems.push(`--exclude-role ${role}: no such role (roles: ${ACCOUNT_ROLES.join(', ')})`);
  }
  for (const email of emails) {
    if ((await users.findByEmail(email.trim().toLowerCase())) === undefined) problems.push(`--exclude-user ${email}: no account has this e-mail`);
  }
  return problems;
}

/** Where a confirmation is asked; tests pass their own streams. */
export interface Terminal {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output: NodeJS.WritableStream;
}

/**
 * Asks a yes/no question on the terminal (prompt on stderr, so stdout stays
 * clean); true only for y/yes. Returns undefined when there is no terminal to
 * ask on: the caller must then insist on `--yes`.
 */
export async function confirmOnTerminal(question: string, terminal: Terminal = { input: process.stdin, output: process.stderr }): Promise<boolean | undefined> {
  if (terminal.input.isTTY !== true) return undefined;
  const prompt = createInterface({ input: terminal.input, output: terminal.output, terminal: true });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    prompt.close();
  }
}
