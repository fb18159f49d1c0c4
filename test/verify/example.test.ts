import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createUser, csrfHeaders, loggedInClient } from '../auth/support.js';
import { eventually, MACHINE_NATS, natsUnavailable, testPrefix } from '../bus/support.js';

/**
 * Runs the example apps of examples/verify as a user would (plain `node`,
 * importing `curfew/verify` through the package's exports) against a real
 * curfew; with NATS present, revocation reaches them through the bus.
 */
const natsSkip = await natsUnavailable();
if (natsSkip) console.log(`# bus part of the example runs without NATS: ${natsSkip}`);

async function runExample(file: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess; output: string[] }> {
  const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let url: string | undefined;
  child.stdout?.on('data', (chunk: Buffer) => {
    output.push(chunk.toString());
    url ??= /"url":"(http:\/\/[^"]+)"/.exec(chunk.toString())?.[1];
  });
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await eventually(() => url !== undefined || child.exitCode !== null, 30_000, `${file} to listen`);
  if (url === undefined) throw new Error(`${file} exited: ${output.join('')}`);
  return { url, child, output };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid as number, 'SIGTERM');
  await exited;
}

for (const file of ['examples/verify/fastify-app.mjs', 'examples/verify/http-app.mjs']) {
  describe(`example ${file}`, () => {
    const prefix = testPrefix();
    let t: TestApp;
    let example: Awaited<ReturnType<typeof runExample>>;
    const bus = natsSkip === undefined;

    before(async () => {
      t = await startTestApp({ env: bus ? { BUS_URL: MACHINE_NATS, BUS_SUBJECT_PREFIX: prefix } : {}, background: true });
      await createUser(t, { email: 'ex@example.com', password: 'correct horse battery' });
      example = await runExample(file, {
        CURFEW_URL: t.url,
        JWT_ISSUER: t.app.config.auth.issuer,
        ...(bus ? { BUS_URL: MACHINE_NATS, BUS_SUBJECT_PREFIX: prefix } : {}),
      });
      if (bus) await eventually(() => t.app.services.bus.state() === 'connected', 10_000, 'curfew on the bus');
    });
    after(async () => {
      await stop(example?.child);
      await t?.stop();
    });

    const whoami = (headers: Record<string, string>) => fetch(`${example.url}/whoami`, { headers });

    it('accepts a curfew access token (Bearer or cookie) and refuses a request without one', async () => {
      const http = await loggedInClient(t, 'ex@example.com', 'correct horse battery');
      const token = http.cookie('access_token') as string;
      const bearer = await whoami({ authorization: `Bearer ${token}` });
      assert.equal(bearer.status, 200);
      assert.equal(((await bearer.json()) as { email: string }).email, 'ex@example.com');
      assert.equal((await whoami({ cookie: `access_token=${token}` })).status, 200);
      const none = await whoami({});
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
      assert.equal((await whoami({ authorization: 'Bearer nonsense' })).status, 401);
    });

    it('accepts tokens signed after a key rotation', async () => {
      await t.app.services.auth.keys.rotate();
      const token = (await loggedInClient(t, 'ex@example.com', 'correct horse battery')).cookie('access_token') as string;
      // The example's JWKS cooldown is 1 s: an unknown kid inside it is refused until the next fetch.
      await eventually(async () => (await whoami({ authorization: `Bearer ${token}` })).status === 200, 10_000, 'the new key');
    });

    it('refuses a logged-out session once the revocation event arrives', { skip: bus ? false : 'no NATS' }, async () => {
      const http = await loggedInClient(t, 'ex@example.com', 'correct horse battery');
      const token = http.cookie('access_token') as string;
      assert.equal((await whoami({ authorization: `Bearer ${token}` })).status, 200);
      assert.equal((await http.post('/api/v1/logout/', { headers: csrfHeaders(http) })).status, 200);
      await eventually(async () => (await whoami({ authorization: `Bearer ${token}` })).status === 401, 10_000, 'the example to refuse the session');
    });
  });
}
