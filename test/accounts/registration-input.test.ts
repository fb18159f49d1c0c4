import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPassword, parseEmail, parseProfile } from '../../src/accounts/registration-input.js';
import { AppError } from '../../src/errors.js';

const NOW = Date.UTC(2026, 2, 1, 12);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return 'OK';
}

describe('registration input', () => {
  const emails: readonly [string, string][] = [
    [' Some@Email.EE ', 'some@email.ee'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ['o\'brien@example.org', 'o\'brien@example.org'],
  ];
  for (const [input, expected] of emails) {
    it(`normalises ${JSON.stringify(input)}`, () => assert.equal(parseEmail(input), expected));
  }
  for (const bad of ['.a@example.com', 'a..b@example.com', 'a@-example.com', 'a@example', 'a@example.c', '@example.com', 'a@', 'a@exa mple.com']) {
    it(`refuses the address ${JSON.stringify(bad)}`, () => assert.equal(code(() => parseEmail(bad)), 'VALIDATION_FAILED'));
  }

  it('counts password length in characters, not bytes or UTF-16 units', () => {
    assert.equal(code(() => checkPassword('🔑🔑🔑🔑🔑🔑🔑🔑')), 'OK');
    assert.equal(code(() => checkPassword('🔑🔑🔑🔑🔑🔑🔑')), 'VALIDATION_FAILED');
    assert.equal(code(() => checkPassword('é'.repeat(128))), 'OK');
    assert.equal(code(() => checkPassword('é'.repeat(129))), 'VALIDATION_FAILED');
  });

  const dates: readonly [string, string][] = [
    ['2000-08-25', '2000-08-25'],
    ['2000-08-25T12:00:00+03:00', '2000-08-25'],
    ['2000-08-25T23:30:00-05:00', '2000-08-25'],
    ['2000-02-29T00:00Z', '2000-02-29'],
    ['1999-12-31T23:59:59.123456Z', '1999-12-31'],
  ];
  for (const [input, stored] of dates) {
    it(`keeps the calendar date of ${input}`, () => {
      assert.equal(parseProfile({ type: 'worker', birth_date: input }, NOW).birth_date, stored);
    });
  }
  for (const bad of ['1900-02-29', '2001-02-29', '2000-13-01', '2000-00-10', '2000-1-1', '2000-01-01T24:00', '2000-01-01T10:60', '1850-01-01', '2026-03-03']) {
    it(`refuses the birth date ${bad}`, () => assert.equal(code(() => parseProfile({ type: 'worker', birth_date: bad }, NOW)), 'VALIDATION_FAILED'));
  }

  it('trims names and keeps only the given fields', () => {
    assert.deepEqual(parseProfile('{"type":"organization","first_name":"  Ada "}', NOW), { type: 'organization', first_name: 'Ada' });
  });

  it('treats __proto__ in the profile text as an unknown field, not a prototype', () => {
    assert.equal(code(() => parseProfile('{"type":"worker","__proto__":{"x":1}}', NOW)), 'UNKNOWN_FIELD');
  });
});
