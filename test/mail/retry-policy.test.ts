import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY, nextAttemptAt } from '../../src/mail/retry-policy.js';

describe('mail retry policy', () => {
  const cases: readonly [attempts: number, delay: number | null][] = [
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [4, 240_000],
    [7, 1_920_000],
    [8, null],
    [9, null],
  ];
  for (const [attempts, delay] of cases) {
    it(`after ${attempts} failed attempt(s): ${delay === null ? 'give up' : `retry in ${delay} ms`}`, () => {
      const result = nextAttemptAt(1_000, attempts);
      assert.equal(result === null ? null : result - 1_000, delay);
    });
  }

  it('caps the delay', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 100 };
    assert.equal(nextAttemptAt(0, 40, policy), policy.maxDelayMs);
  });
});
