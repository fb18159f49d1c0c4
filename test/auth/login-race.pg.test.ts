import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { TEST_SECRET_KEY, startTestApp } from '../helpers/app.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../helpers/database.js';
import { createUser } from './support.js';

/**
 * Issue 16 #6 across real processes: two `curfew serve` processes on one
 * PostgreSQL schema take 300 concurrent wrong logins to one account between
 * them. The reservation is one atomic upsert per attempt, so the processes
 * together run at most LOGIN_ACCOUNT_FREE_FAILURES password checks (read from
 * each process's curfew_password_checks_total). The first lock is 600 s, so
 * no lock can end during the burst whatever the machine's speed.
 */
const skip = await postgresUnavailable();
if (skip) console.log(`skipping: ${skip}`);

const PASSWORD = 'the real password';
const METRICS_TOKEN = 'login-race-metrics-token-0123456789';
const BURST = 300;

class Instance {
  readonly output: string[] = [];
  readonly url: Promise<string>;
  constructor(readonly child: ChildProcess) {
    this.url = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${this.output.join('')}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(text);
        const match = /curfew listening on (http:\/\/[^" ]+)/.exec(text);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${this.output.join('')}`)));
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function passwordChecks(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const match = /^curfew_password_checks_total (\d+)$/m.exec(text);
  assert.ok(match, `no curfew_password_checks_total in /metrics: ${text.slice(0, 200)}`);
  return Number(match[1]);
}

describe('login limiter across two real processes on one PostgreSQL', { skip: skip ?? false }, () => {
  let database: TestDatabase;
  const instances: Instance[] = [];

  before(async () => {
    database = await createTestDatabase('postgres');
    // Migrates the schema, makes the signing key (under TEST_SECRET_KEY) and the user.
    const setup = await startTestApp({ database });
    await createUser(setup, { email: 'victim@example.com', password: PASSWORD });
    await setup.stop();
    for (const name of ['login-a', 'login-b']) {
      const child = spawn(process.execPath, ['bin/curfew.js', 'serve'], {
        env: {
          PATH: process.env.PATH ?? '',
          ...database.env,
          NODE_ENV: 'test',
          HOST: '127.0.0.1',
          PORT: '0',
          SCHEDULER: 'off',
          SECRET_KEY: TEST_SECRET_KEY,
          LOG_LEVEL: 'info',
          INSTANCE_ID: name,
          COOKIE_SECURE: 'false',
          METRICS_TOKEN,
          ARGON2_MEMORY_KIB: '1024',
          ARGON2_TIME_COST: '1',
          TRUST_PROXY: '1',
          LOGIN_ACCOUNT_FREE_FAILURES: '5',
          LOGIN_ACCOUNT_FIRST_LOCK: '600',
          LOGIN_IP_MAX_FAILURES: '10000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      instances.push(new Instance(child));
    }
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await database.drop();
  });

  it(`${BURST} concurrent wrong logins split over both processes run at most 5 password checks`, async () => {
    const urls = await Promise.all(instances.map((instance) => instance.url));
    const before = (await Promise.all(urls.map(passwordChecks))).reduce((sum, n) => sum + n, 0);
    const statuses = await Promise.all(
      Array.from({ length: BURST }, (_, index) =>
        fetch(`${urls[index % urls.length]}/api/v1/login/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.50.${index >> 8}.${index & 255}` },
          body: JSON.stringify({ email: 'victim@example.com', password: `wrong ${index}` }),
        }).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
      ),
    );
    const perInstance = await Promise.all(urls.map(passwordChecks));
    const ran = perInstance.reduce((sum, n) => sum + n, 0) - before;
    console.log(`password checks run by ${BURST} concurrent wrong logins over 2 processes: ${ran} (limit 5; per process ${perInstance.join(' + ')})`);
    assert.ok(ran <= 5, `password checks: ${ran}`);
    assert.equal(statuses.filter((status) => status === 401).length, ran);
    assert.equal(statuses.filter((status) => status === 429).length, BURST - ran);
    assert.deepEqual(statuses.filter((status) => status !== 401 && status !== 429), []);
  });
});
