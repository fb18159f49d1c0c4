import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { AccessLog, accessPath, json, milliseconds } from '../../src/http/access-log.js';
import { requestLoggerFactory } from '../../src/http/request-logger.js';
import { createLogger } from '../../src/logger.js';
import { LogCapture } from '../helpers/app.js';

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('request loggers', () => {
  it('write nothing below the level, and lines at or above it carry the request id, redacted as ever', async () => {
    const capture = new LogCapture();
    const root = createLogger({ level: 'warn', destination: capture });
    const log = requestLoggerFactory(root, { reqId: 'req-1' }, {});
    log.info({ user: 1 }, 'incoming request');
    log.debug('noise');
    log.warn({ password: 'hunter2', user: 7 }, 'something odd');
    log.error(new Error('boom'));
    await flush();
    assert.equal(capture.lines.length, 2, capture.text());
    const [warn, error] = capture.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual([warn?.reqId, warn?.msg, warn?.user, warn?.password], ['req-1', 'something odd', 7, '[REDACTED]']);
    assert.equal(error?.reqId, 'req-1');
    assert.match(String((error?.err as { message?: string } | undefined)?.message), /boom/);
  });

  it('follow level changes and make children that keep the request id', async () => {
    const capture = new LogCapture();
    const root = createLogger({ level: 'warn', destination: capture });
    const log = requestLoggerFactory(root, { reqId: 'req-2' }, {});
    assert.equal(log.level, 'warn');
    log.level = 'info';
    log.info('now visible');
    log.child({ job: 'x' }).info('from a child');
    await flush();
    const lines = capture.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(lines.map((line) => [line.reqId, line.msg, line.job]), [['req-2', 'now visible', undefined], ['req-2', 'from a child', 'x']]);
    assert.equal(root.level, 'warn', 'the root level is untouched');
  });
});

describe('the access log (one line per request, no redaction pass)', () => {
  it('blanks every query value and credential-named path parameters', () => {
    const cases: Array<[string, Record<string, string> | undefined, string]> = [
      ['/api/v1/me/', undefined, '/api/v1/me/'],
      ['/cron/run?token=s3cret&dry=1', undefined, '/cron/run?token=[REDACTED]&dry=[REDACTED]'],
      ['/x?bare&', undefined, '/x?[REDACTED]&'],
      ['/api/v1/activate/abc.def/', { token: 'abc.def' }, '/api/v1/activate/[REDACTED]/'],
      ['/api/v1/activate/a%2Eb?x=1', { token: 'a.b' }, '/api/v1/activate/[REDACTED]?x=[REDACTED]'],
      ['/api/v1/sessions/42', { id: '42' }, '/api/v1/sessions/42'],
    ];
    for (const [url, params, expected] of cases) assert.equal(accessPath(url, params), expected, url);
  });

  it('writes the request id, method, path, IP, user agent, status, duration and code; 5xx at warn; nothing else', async () => {
    const capture = new LogCapture();
    const root = createLogger({ level: 'info', destination: capture });
    const log = new AccessLog(root);
    log.write({ reqId: 'r-1', method: 'GET', url: '/cron/run?token=s3cret-value', ip: '10.0.0.9', userAgent: 'probe/1', status: 401, responseTime: 0.25, code: 'CRON_UNAUTHORIZED' });
    log.write({ reqId: 'r-2', method: 'GET', url: '/health', ip: '::1', userAgent: 'x'.repeat(1000), status: 503, responseTime: 1 });
    await flush();
    const [refusal, outage] = capture.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      { ...refusal, time: undefined },
      {
        level: 30,
        time: undefined,
        service: 'curfew',
        reqId: 'r-1',
        req: { method: 'GET', url: '/cron/run?token=[REDACTED]', ip: '10.0.0.9', userAgent: 'probe/1' },
        res: { statusCode: 401 },
        responseTime: 0.25,
        code: 'CRON_UNAUTHORIZED',
        msg: 'request completed',
      },
    );
    assert.ok(!capture.text().includes('s3cret'));
    assert.equal(outage?.level, 40, 'a 5xx is a warning');
    assert.equal((outage?.req as { userAgent: string }).userAgent.length, 256, 'a long user agent is cut');
  });

  it('at warn writes only 5xx lines', async () => {
    const capture = new LogCapture();
    const log = new AccessLog(createLogger({ level: 'warn', destination: capture }));
    assert.equal(log.enabled(200), false);
    assert.equal(log.enabled(503), true);
    log.write({ reqId: 'a', method: 'GET', url: '/', ip: '::1', userAgent: undefined, status: 404, responseTime: 1 });
    log.write({ reqId: 'b', method: 'GET', url: '/', ip: '::1', userAgent: undefined, status: 500, responseTime: 1 });
    await flush();
    assert.deepEqual(capture.lines.map((line) => (JSON.parse(line) as { reqId: string }).reqId), ['b']);
  });

  it('prints durations as JSON numbers in ms with microsecond resolution', () => {
    const cases: Array<[number, string]> = [
      [0, '0'], [0.25, '0.25'], [12, '12'], [7.919724000000315, '7.92'], [0.0004, '0'], [0.0005, '0.001'],
      [1.0005, '1.001'], [0.05, '0.05'], [0.007, '0.007'], [1234.5678, '1234.568'], [Number.NaN, 'null'], [-1, 'null'], [Infinity, 'null'],
    ];
    for (const [value, expected] of cases) assert.equal(milliseconds(value), expected, String(value));
    for (let i = 0; i < 1000; i += 1) {
      const value = (i * 7.31) % 97.3;
      assert.equal(JSON.parse(milliseconds(value)), Math.round(value * 1000) / 1000, String(value));
    }
  });

  it('JSON-escapes every string exactly as JSON.stringify does, taking the short way only when nothing needs escaping', () => {
    const samples = ['', 'plain', 'autocannon/9', 'quote"d', 'back\\slash', 'tab\there', 'nl\n', '\u0000', '\u001f', '\u007f', 'é ü ☃', '😀 pair', 'lone \ud800', 'lone \udfff end'];
    for (let i = 0; i < 2000; i += 1) {
      // Random strings over the code units around every boundary of JSON's escaping.
      const units = [0x00, 0x08, 0x1f, 0x20, 0x22, 0x5c, 0x7e, 0x7f, 0xe9, 0x2028, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xffff, 0x41];
      samples.push(String.fromCharCode(...Array.from({ length: 1 + (i % 7) }, (_, k) => units[(i * 7 + k * 13) % units.length] ?? 0x41)));
    }
    for (const sample of samples) assert.equal(json(sample), JSON.stringify(sample), JSON.stringify(sample));
    assert.equal(json(undefined), 'null');
  });
});

describe('the default destination (stdout, gathered into large writes)', () => {
  const LOGGER = fileURLToPath(new URL('../../src/logger.ts', import.meta.url));
  /** Runs `body` in a child with `createLogger` and `stdoutDestination` imported; returns its stdout lines. */
  function run(body: string): string[] {
    const script = `const { createLogger, stdoutDestination } = await import(${JSON.stringify(LOGGER)});\n${body}`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    return child.stdout.split('\n').filter((line) => line !== '');
  }

  it('writes every line, multi-byte text intact, when the process exits right after logging', () => {
    const lines = run(`
      const log = createLogger({ level: 'info', destination: stdoutDestination() });
      for (let i = 0; i < 500; i++) log.info({ i, text: 'héllo ☃ 😀' }, 'line');
      process.exit(0);
    `);
    assert.equal(lines.length, 500);
    const parsed = lines.map((line) => JSON.parse(line) as { i: number; text: string });
    assert.deepEqual(parsed.map((line) => line.i), Array.from({ length: 500 }, (_, i) => i));
    assert.ok(parsed.every((line) => line.text === 'héllo ☃ 😀'));
  });

  it('writes every line when the process ends on its own (no exit call)', () => {
    const lines = run(`
      const log = createLogger({ level: 'info', destination: stdoutDestination() });
      for (let i = 0; i < 1500; i++) log.info({ i, pad: 'x'.repeat(40) }, 'line');
    `);
    // Over 32 KiB: one write is in flight when the process starts to end, the rest follows it in order.
    assert.deepEqual(lines.map((line) => (JSON.parse(line) as { i: number }).i), Array.from({ length: 1500 }, (_, i) => i));
  });

  it('flushes a quiet process on its own, without waiting for a full buffer or the exit', async () => {
    const script = `const { createLogger, stdoutDestination } = await import(${JSON.stringify(LOGGER)});
      createLogger({ level: 'info', destination: stdoutDestination() }).info('alone');
      setTimeout(() => {}, 30_000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no line within 10 s of a running process')), 10_000);
        child.stdout.once('data', (chunk: Buffer) => {
          clearTimeout(timer);
          resolve(chunk.toString('utf8'));
        });
      });
      assert.equal((JSON.parse(line) as { msg: string }).msg, 'alone');
    } finally {
      child.kill('SIGKILL');
    }
  });
});

