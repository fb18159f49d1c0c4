/**
 * A configuration problem found at start-up. The message always names the
 * setting and says how to fix it; the CLI prints it and exits with status 78.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The environment variable (or setting) at fault. */
    readonly setting: string,
    /** What is wrong and how to fix it. */
    readonly problem: string,
  ) {
    super(`${setting}: ${problem}`);
  }
}
