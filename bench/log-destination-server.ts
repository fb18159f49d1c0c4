// A child for bench/log-destination.ts: writes LINES access lines, one per
// event-loop turn (as one request per turn in a server), through one
// destination to its stdout (a pipe the parent drains unread), then prints
// `RESULT <cpu µs per line>` on stderr. CPU is the whole process's, thread
// pool included.
import { pino } from 'pino';
import { AccessLog } from '../src/http/access-log.js';
import { createLogger, stdoutDestination } from '../src/logger.js';

const variant = process.argv[2];
const LINES = Number(process.env.BENCH_LINES ?? 100_000);

function destination(): { write(line: string): unknown } {
  switch (variant) {
    case 'none':
      return { write: () => true };
    case 'string-4k':
      // The destination shipped before: SonicBoom's string mode, ~4 KiB writes.
      return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 });
    case 'shipped':
      return stdoutDestination();
    default:
      throw new Error(`unknown variant ${String(variant)}`);
  }
}

const accessLog = new AccessLog(createLogger({ level: 'info', destination: destination() as never }));
const reqId = '8b7c2a4e-0d43-4d0c-9a53-0c1e2b3f4a5b';
let written = 0;
const before = process.cpuUsage();
await new Promise<void>((resolve) => {
  const step = (): void => {
    accessLog.write({ reqId, method: 'GET', url: '/api/v1/me/', ip: '127.0.0.1', userAgent: 'autocannon/9', status: 200, responseTime: 0.1 + (written % 97) / 1000, early: true });
    written += 1;
    if (written < LINES) setImmediate(step);
    else resolve();
  };
  step();
});
const used = process.cpuUsage(before);
process.stderr.write(`RESULT ${((used.user + used.system) / LINES).toFixed(3)}\n`);
process.exit(0);
