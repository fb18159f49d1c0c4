import { hash, verify } from '@node-rs/argon2';

/** `Algorithm.Argon2id`; the package's const enum cannot be imported under verbatimModuleSyntax. */
const ARGON2ID = 2;

export interface Argon2Params {
  /** KiB of memory (default 19456, OWASP's argon2id minimum). */
  readonly memoryCost: number;
  /** Iterations (default 2). */
  readonly timeCost: number;
  /** Lanes (default 1). */
  readonly parallelism: number;
}

/** Password hashing with argon2id; knows when a stored hash is outdated. */
export class PasswordHasher {
  private verifications = 0;

  constructor(private readonly params: Argon2Params) {}

  /** Password checks run by this process so far (the `curfew_password_checks_total` metric). */
  get checks(): number {
    return this.verifications;
  }

  async hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, ...this.params });
  }

  /** False for a wrong password or an unparseable hash; never throws on bad input. */
  async verify(storedHash: string, password: string): Promise<boolean> {
    this.verifications += 1;
    try {
      return await verify(storedHash, password);
    } catch {
      return false;
    }
  }

  /** True when the hash was made with other parameters and should be replaced at next login. */
  needsRehash(storedHash: string): boolean {
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(storedHash);
    if (!match) return true;
    const [, m, t, p] = match.map(Number);
    return m !== this.params.memoryCost || t !== this.params.timeCost || p !== this.params.parallelism;
  }
}
