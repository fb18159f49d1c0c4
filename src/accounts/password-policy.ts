import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { AppError } from '../errors.js';
import { checkPassword } from './registration-input.js';

/** Words every curfew installation's users would try first. */
const SERVICE_WORDS = ['curfew', 'password', 'passwort', 'login', 'admin'];

const SCORE_NAMES = ['very weak', 'weak', 'fair', 'strong', 'very strong'] as const;

/**
 * The one password policy, for register, reset, change and `curfew users
 * create`: the length rule (8–128 characters, VALIDATION_FAILED), then
 * zxcvbn-ts's strength estimate against the common and English dictionaries,
 * the user's own e-mail address and a few service words (PASSWORD_TOO_WEAK
 * naming the rule, the score and zxcvbn's advice).
 */
export class PasswordPolicy {
  private estimator: Promise<ZxcvbnFactory> | undefined;

  /** @param minStrength zxcvbn score 0–4 a password needs (PASSWORD_MIN_STRENGTH, default 3). */
  constructor(readonly minStrength: number) {}

  /** Returns the password when it passes; throws VALIDATION_FAILED or PASSWORD_TOO_WEAK. */
  async check(password: unknown, email?: string): Promise<string> {
    const value = checkPassword(password);
    if (this.minStrength === 0) return value;
    const inputs = [...SERVICE_WORDS];
    if (email !== undefined) inputs.push(email, ...email.split(/[@.+_-]/).filter((part) => part.length >= 3));
    const result = (await this.zxcvbn()).check(value, inputs);
    if (result.score >= this.minStrength) return value;
    const advice = [result.feedback.warning, ...result.feedback.suggestions].filter((text): text is string => typeof text === 'string' && text !== '');
    const message =
      `password is too easy to guess (strength rule: ${result.score} of 4, "${SCORE_NAMES[result.score] ?? 'weak'}"; ` +
      `at least ${this.minStrength} needed).${advice.length > 0 ? ` ${advice.join(' ')}` : ''}`;
    throw new AppError('PASSWORD_TOO_WEAK', message);
  }

  /**
   * The dictionaries (about 6 MB of JavaScript, ~0.4 s to load) are imported
   * on first use, so start-up and processes that never check pay nothing.
   */
  private zxcvbn(): Promise<ZxcvbnFactory> {
    this.estimator ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(
      ([core, common, en]) =>
        new core.ZxcvbnFactory({
          dictionary: { ...common.dictionary, ...en.dictionary },
          graphs: common.adjacencyGraphs,
          translations: en.translations,
        }),
    );
    return this.estimator;
  }
}
