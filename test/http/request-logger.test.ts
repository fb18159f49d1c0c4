import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
