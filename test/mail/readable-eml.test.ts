import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';

// Regression (issue 14): the file transport wrote quoted-printable, whose `=`
// soft breaks cut the activation URL in two when the .eml was read with `cat`.
describe('file transport: .eml files are readable with cat', () => {
  let t: TestApp;
  const publicUrl = 'https://accounts.a-rather-long-subdomain-for-testing.example.com';

  before(async () => {
    t = await startTestApp({ env: { PUBLIC_URL: publicUrl } });
  });
  after(async () => {
    await t.stop();
  });

  it('writes the activation link whole, on one line, in 8-bit UTF-8', async () => {
    assert.equal(t.app.services.mail.transport, 'file');
    await t.app.services.accounts.register({ email: 'reader@example.com', password: 'violet harbour lantern 2031', profile: { type: 'worker', first_name: 'Zoë' } });
    assert.equal(await t.app.services.mail.sendDueNow(), 1);
    const dir = join(t.app.config.dataDir, 'mail');
    const files = readdirSync(dir).filter((name) => name.endsWith('.eml'));
    assert.equal(files.length, 1);
    const raw = readFileSync(join(dir, files[0] ?? ''), 'utf8');
    assert.doesNotMatch(raw, /quoted-printable/i);
    const lines = raw.split('\n');
    const link = lines.find((line) => line.startsWith(`${publicUrl}/api/v1/activate/`));
    assert.ok(link, `the link is on a line of its own:\n${raw}`);
    assert.match(link, /^https:\/\/[^\s=]+\/api\/v1\/activate\/[A-Za-z0-9_-]{43}\/$/);
    assert.ok(raw.includes(`href="${link}"`), 'the HTML part carries the same link, unbroken');
  });
});
