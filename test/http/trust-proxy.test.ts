import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createUser } from '../auth/support.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { HttpClient } from '../helpers/http.js';

/**
 * Issue 16 #7: with TRUST_PROXY=true the leftmost, client-written
 * X-Forwarded-For entry was the client address, so the IP allow-list and the
 * per-IP login limit were spoofable behind any proxy that appends (nginx's
 * default). Now the address is taken from the right, skipping only the
 * configured trusted hops. The test's socket peer (127.0.0.1) plays the proxy.
 */
const SECRET = 'trust-proxy-secret-0123456789abcdef0123456789';
const apps: TestApp[] = [];
after(async () => {
  for (const t of apps) await t.stop();
});

async function app(env: Record<string, string>): Promise<TestApp> {
  const t = await startTestApp({ env: { CRON_SECRETS: SECRET, CRON_THROTTLE_MAX: '1000', ...env } });
  apps.push(t);
  return t;
}

/** The status of a trigger call whose proxy chain ends in `forwardedFor` (a job that does not exist: 404 means admitted). */
async function trigger(t: TestApp, forwardedFor: string): Promise<number> {
  const response = await new HttpClient(t.url).post('/cron/jobs/ip-probe/run', { headers: { authorization: `Bearer ${SECRET}`, 'x-forwarded-for': forwardedFor } });
  return response.status;
}

describe('TRUST_PROXY: the client address is the rightmost untrusted X-Forwarded-For entry', () => {
  it('TRUST_PROXY=true trusts one hop: a client-written leftmost entry cannot get past CRON_IP_ALLOWLIST', async () => {
    const t = await app({ TRUST_PROXY: 'true', CRON_IP_ALLOWLIST: '10.0.0.0/8' });
    assert.equal(await trigger(t, '10.1.2.3'), 404, 'the proxy says the caller is 10.1.2.3: allowed');
    // The client wrote "10.1.2.3" itself; the proxy appended the address it saw.
    assert.equal(await trigger(t, '10.1.2.3, 203.0.113.9'), 403, 'spoofed leftmost entry is ignored');
    assert.equal(await trigger(t, '203.0.113.9, 10.1.2.3'), 404);
  });

  it('a hop count skips that many proxies from the right', async () => {
    const t = await app({ TRUST_PROXY: '2', CRON_IP_ALLOWLIST: '198.51.100.0/24' });
    // socket (hop 0) and 10.0.0.2 (hop 1) are trusted; 198.51.100.7 is the client.
    assert.equal(await trigger(t, '10.9.9.9, 198.51.100.7, 10.0.0.2'), 404);
    assert.equal(await trigger(t, '198.51.100.7, 203.0.113.5, 10.0.0.2'), 403);
  });

  it('a CIDR list skips only addresses inside it', async () => {
    const t = await app({ TRUST_PROXY: '127.0.0.1/32, 10.0.0.0/8', CRON_IP_ALLOWLIST: '198.51.100.0/24' });
    assert.equal(await trigger(t, '198.51.100.7, 10.0.0.3, 10.0.0.2'), 404, 'both 10.x hops are trusted proxies');
    assert.equal(await trigger(t, '198.51.100.7, 203.0.113.5, 10.0.0.2'), 403, '203.0.113.5 is not a trusted proxy: it is the client');
  });

  it('TRUST_PROXY unset: X-Forwarded-For is ignored', async () => {
    const t = await app({ CRON_IP_ALLOWLIST: '10.0.0.0/8' });
    assert.equal(await trigger(t, '10.1.2.3'), 403);
  });

  it('the per-IP login limit counts the real client, however the leftmost entry rotates', async () => {
    const t = await app({ TRUST_PROXY: 'true', LOGIN_IP_MAX_FAILURES: '3' });
    await createUser(t, { email: 'ip@example.com', password: 'right password' });
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      const response = await new HttpClient(t.url).post('/api/v1/login/', {
        json: { email: `nobody${index}@example.com`, password: 'guess' },
        headers: { 'x-forwarded-for': `192.0.2.${index}, 203.0.113.77` },
      });
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const elsewhere = await new HttpClient(t.url).post('/api/v1/login/', {
      json: { email: 'ip@example.com', password: 'right password' },
      headers: { 'x-forwarded-for': '192.0.2.1, 203.0.113.78' },
    });
    assert.equal(elsewhere.status, 200, 'another real client is not affected');
  });
});
