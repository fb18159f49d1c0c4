import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
/** `| \`CODE\` | status | ... |` rows of the table in docs/errors.md. */
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((match) => [match[1] ?? '', Number(match[2])]),
);

describe('docs/errors.md', () => {
  it('documents every error code with its status', () => {
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      assert.equal(documented.get(code), status, `${code} (${status}) is missing or has another status in docs/errors.md`);
    }
  });

  it('documents no code the registry lacks', () => {
    const extra = [...documented.keys()].filter((code) => !(code in ERROR_CODES));
    assert.deepEqual(extra, []);
  });
});
