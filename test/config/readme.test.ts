import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('README configuration table', () => {
  it('names every environment variable the config module reads', () => {
    const readme = read('README.md');
    // Every module of src/config: the bus, trust-proxy and throttle readers too, not only index.ts.
    const source = readdirSync(new URL('../../src/config/', import.meta.url))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => read(`src/config/${file}`))
      .join('\n');
    // reader.string('HOST', ...), reader.list('CRON_SECRETS'), names in arrays of seed aliases, ...
    const names = new Set([...source.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|HOST|PORT)'/g)].map((match) => match[1] ?? ''));
    assert.ok(names.size > 40, `found ${names.size} names`);
    // Per-job fields (SCHEDULE, CATCH_UP, ...) are documented as JOB_<NAME>_<FIELD>.
    const missing = [...names].filter((name) => !readme.includes(`\`${name}\``) && !readme.includes(`\`JOB_<NAME>_${name}\``));
    assert.deepEqual(missing, []);
  });
});
