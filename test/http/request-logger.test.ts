import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessLog, accessPath } from '../../src/http/access-log.js';
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
});
