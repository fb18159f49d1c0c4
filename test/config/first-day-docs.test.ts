import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';

const readme = readFileSync('README.md', 'utf8');

describe('README: the routes and fields a first day needs', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.stop());

  it('names the verify route that exists (bug: said login/verify/)', async () => {
    assert.doesNotMatch(readme, /login\/verify\//);
    assert.match(readme, /POST \/api\/v1\/verify\//);
    const http = new HttpClient(t.url);
    assert.equal((await http.post('/api/v1/verify/', { json: { token: 'x' } })).status, 401, 'the documented route answers');
    assert.equal((await http.post('/api/v1/login/verify/', { json: { token: 'x' } })).status, 404);
  });

  it("gives the demo page's URL, and it serves", async () => {
    assert.match(readme, /http:\/\/127\.0\.0\.1:8000\/demo\/presence/);
    assert.equal((await new HttpClient(t.url).get('/demo/presence')).status, 200);
  });

  it("says registration's profile is required and what it needs; the smallest body it shows registers", async () => {
    assert.match(readme, /`profile`, which is \*\*required\*\*/);
    const body = /The smallest valid body:\s*```json\n(.+)\n```/.exec(readme)?.[1];
    assert.ok(body, 'README shows a body');
    const http = new HttpClient(t.url);
    const created = await http.post('/api/v1/register/', { json: JSON.parse(body) as unknown });
    assert.equal(created.status, 201, created.text);
    const { profile: _dropped, ...withoutProfile } = JSON.parse(body) as Record<string, unknown>;
    assert.equal((await http.post('/api/v1/register/', { json: { ...withoutProfile, email: 'other@example.com' } })).status, 400, 'without profile: refused, as documented');
  });
});

describe('npm install on the declared Node: no EBADENGINE', () => {
  it('every installed package accepts the lowest Node that package.json declares (bug: cookie@2, content-disposition@3 want >= 22)', () => {
    // semver ships with fastify; the check is npm's own (EBADENGINE compares engines.node with semver).
    const semver = createRequire(import.meta.url)('semver') as { minVersion(range: string): { version: string } | null; satisfies(version: string, range: string): boolean };
    const declared = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
    const lowest = semver.minVersion(declared)?.version;
    assert.ok(lowest, declared);
    const refused: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        if (entry.startsWith('.')) continue;
        const path = join(dir, entry);
        if (entry.startsWith('@')) {
          visit(path);
          continue;
        }
        const manifest = join(path, 'package.json');
        if (existsSync(manifest)) {
          const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string; engines?: { node?: string } };
          const wants = pkg.engines?.node;
          if (wants && !semver.satisfies(lowest, wants)) refused.push(`${pkg.name}@${pkg.version} wants node ${wants}`);
        }
        if (existsSync(join(path, 'node_modules'))) visit(join(path, 'node_modules'));
      }
    };
    visit('node_modules');
    assert.deepEqual(refused, [], `these would warn EBADENGINE on Node ${lowest}`);
  });
});
