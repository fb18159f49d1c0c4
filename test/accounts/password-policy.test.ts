import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PasswordPolicy } from '../../src/accounts/password-policy.js';
import { isAppError } from '../../src/errors.js';

const policy = new PasswordPolicy(3);

async function refusal(password: unknown, email?: string): Promise<{ code: string; message: string } | undefined> {
  try {
    await policy.check(password, email);
    return undefined;
  } catch (error) {
    assert.ok(isAppError(error));
    return { code: error.code, message: error.message };
  }
}

describe('password policy (zxcvbn-ts, PASSWORD_MIN_STRENGTH=3)', () => {
  const cases: ReadonlyArray<[string, unknown, string | undefined, string | undefined, RegExp | undefined]> = [
    ['a common password', 'password123', undefined, 'PASSWORD_TOO_WEAK', /strength rule: 0 of 4.*at least 3/],
    ['a keyboard walk', 'qwertyuiop', undefined, 'PASSWORD_TOO_WEAK', /strength rule/],
    ['the e-mail address itself', 'margarethe.k@example.com', 'margarethe.k@example.com', 'PASSWORD_TOO_WEAK', /strength rule/],
    ['the service name', 'curfew2026', undefined, 'PASSWORD_TOO_WEAK', /strength rule/],
    ['too short', 'Ab1!', undefined, 'VALIDATION_FAILED', /at least 8 characters/],
    ['too long', 'x'.repeat(129), undefined, 'VALIDATION_FAILED', /at most 128 characters/],
    ['not a string', 12345678, undefined, 'VALIDATION_FAILED', /must be a string/],
    ['a passphrase', 'blue tractor autumn 1987', undefined, undefined, undefined],
    ['random characters', 'k9#Vq2!zLm8@', undefined, undefined, undefined],
  ];
  for (const [name, password, email, code, message] of cases) {
    it(`${code === undefined ? 'accepts' : 'refuses'} ${name}`, async () => {
      const result = await refusal(password, email);
      if (code === undefined) {
        assert.equal(result, undefined, result?.message);
        return;
      }
      assert.equal(result?.code, code);
      assert.match(result?.message ?? '', message ?? /./);
    });
  }

  it('PASSWORD_MIN_STRENGTH=0 keeps only the length rule', async () => {
    assert.equal(await new PasswordPolicy(0).check('password123'), 'password123');
  });
});
