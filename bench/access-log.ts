// `npm run bench -- access-log`: what one request's access line costs, by how
// it is written (in this process, lines to a sink that keeps nothing, so only
// building the line counts; the destination is measured by `bench auth`):
//   Fastify's default (two lines through a per-request child with curfew's redaction)
//   one line as an object through curfew's logger (serializers + redaction)
//   one flat line through curfew's logger (redaction, no serializers)
//   one flat line through a child without redaction
//   AccessLog.write: the line curfew ships (built in pino's format, no redaction pass)
// Bounded: ROUNDS rounds of LINES lines per variant, medians reported.
import { AccessLog } from '../src/http/access-log.js';
import { createLogger } from '../src/logger.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LINES = Number(process.env.BENCH_LINES ?? 100_000);

const sink = { write: (_line: string) => true };
const headers = { host: '127.0.0.1:8000', cookie: 'access_token=eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'user-agent': 'autocannon/9', connection: 'keep-alive' };
const reqId = '8b7c2a4e-0d43-4d0c-9a53-0c1e2b3f4a5b';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** µs per line, median over rounds, after a warm-up round. */
function measure(write: () => void): number {
  for (let i = 0; i < LINES / 5; i += 1) write();
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    for (let i = 0; i < LINES; i += 1) write();
    rounds.push(((performance.now() - started) * 1000) / LINES);
  }
  return median(rounds);
}

export default function main(): void {
  const logger = createLogger({ level: 'info', destination: sink as never });
  const noRedaction = logger.child({}, { redact: { paths: [] } });
  const accessLog = new AccessLog(logger);
  const variants: Array<[string, () => void]> = [
    [
      "Fastify's default: two lines through a per-request child (curfew's redaction)",
      () => {
        const child = logger.child({ reqId });
        child.info({ req: { id: reqId, method: 'GET', url: '/api/v1/me/', ip: '127.0.0.1', headers } }, 'incoming request');
        child.info({ res: { statusCode: 200 }, responseTime: 0.12 }, 'request completed');
      },
    ],
    [
      'one line, req object with headers (serializers + redaction; the old early path)',
      () => logger.info({ reqId, req: { id: reqId, method: 'GET', url: '/api/v1/me/', ip: '127.0.0.1', headers }, res: { statusCode: 200 }, responseTime: 0.12 }, 'request completed'),
    ],
    [
      'one flat line through the logger (redaction, no serializer)',
      () => logger.info({ reqId, method: 'GET', url: '/api/v1/me/', ip: '127.0.0.1', userAgent: 'autocannon/9', statusCode: 200, responseTime: 0.12 }, 'request completed'),
    ],
    [
      'one flat line through a child without redaction',
      () => noRedaction.info({ reqId, method: 'GET', url: '/api/v1/me/', ip: '127.0.0.1', userAgent: 'autocannon/9', statusCode: 200, responseTime: 0.12 }, 'request completed'),
    ],
    [
      'AccessLog.write (shipped: pino format built directly, no redaction pass)',
      () => accessLog.write({ reqId, method: 'GET', url: '/api/v1/me/', ip: '127.0.0.1', userAgent: 'autocannon/9', status: 200, responseTime: 0.12, early: true }),
    ],
  ];
  const results = variants.map(([name, write]) => {
    process.stderr.write(`[bench access-log] ${name}\n`);
    return { name, us: measure(write) };
  });
  const shipped = results[results.length - 1]?.us ?? Number.NaN;
  const lines = [
    `| access line (${ROUNDS} rounds of ${LINES.toLocaleString('en')} lines, median) | µs per request | × shipped |`,
    '|---|---:|---:|',
    ...results.map((result) => `| ${result.name} | ${result.us.toFixed(2)} | ${(result.us / shipped).toFixed(1)}× |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
