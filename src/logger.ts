import { Buffer } from 'node:buffer';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Request/response serializers
 * below already drop headers; these catch anything that is logged by hand
 * (bodies, error details, config).
 */
const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-cron-secret"]',
  'req.headers["x-csrftoken"]',
  'req.headers["x-curfew-signature"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'password',
  'token',
  'secret',
  'secretKey',
  'cookie',
  'authorization',
  '*.password',
  '*.password_hash',
  '*.passwordHash',
  '*.token',
  '*.secret',
  '*.secrets',
  '*.secretKey',
  '*.cookie',
  '*.cookies',
  '*.authorization',
  '*.refresh_token',
  '*.access_token',
  '*.csrftoken',
  '*.*.password',
  '*.*.token',
  '*.*.secret',
];

const TOKEN_QUERY = /([?&](?:token|access_token|refresh_token|secret|signature)=)[^&#]*/gi;

/** Replaces secret-bearing query values in a URL or path with [REDACTED]. */
export function redactUrl(url: string): string {
  return url.replace(TOKEN_QUERY, '$1[REDACTED]');
}

/** Strips secret-looking substrings (tokens in URLs, bearer values) from free text. */
export function redactText(text: string): string {
  return redactUrl(text).replace(/(Bearer\s+)[^\s"']+/gi, '$1[REDACTED]');
}

export interface RequestLike {
  id?: string;
  method?: string;
  url?: string;
  ip?: string;
  headers?: Record<string, unknown>;
}

/** The request as log lines show it: no headers but the user agent, secrets in the URL blanked. */
export function serializeRequest(req: RequestLike, redact: (url: string) => string = redactUrl) {
  return {
    id: req.id,
    method: req.method,
    url: req.url === undefined ? undefined : redact(req.url),
    ip: req.ip,
    userAgent: req.headers?.['user-agent'],
  };
}

/** A destination that gathers lines: `flush` is what pino's `logger.flush()` calls. */
export interface BufferedDestination extends DestinationStream {
  flush(callback?: (error?: Error) => void): void;
  flushSync(): void;
}

/** Bytes of log lines gathered into one write to stdout. */
const LOG_BUFFER_BYTES = 32 * 1024;
/** How long a line may wait in that buffer when traffic is low, in ms. */
const LOG_FLUSH_MS = 100;

/**
 * The default destination: stdout through pino's asynchronous writer
 * (SonicBoom), gathering lines into writes of about 32 KiB, flushed at most
 * 100 ms after a line when traffic is low, and synchronously on exit (pino
 * registers that for the writers `pino.destination` builds). One write (a thread-pool round
 * trip, and a wake-up of whatever reads the pipe) per access line was most of
 * a logged request's remaining cost (bench/RESULTS.md, issue 15 §2).
 *
 * The writer runs in its buffer mode and each line is encoded once here: in
 * its string mode SonicBoom measures the whole pending buffer's UTF-8 length
 * on every write, which costs more per line the larger the buffer.
 * The price: a process killed with SIGKILL loses at most its last 100 ms of lines.
 */
export function stdoutDestination(): BufferedDestination {
  const writer = pino.destination({
    dest: 1,
    sync: false,
    contentMode: 'buffer',
    minLength: LOG_BUFFER_BYTES,
    maxWrite: 2 * LOG_BUFFER_BYTES,
  });
  // A flush LOG_FLUSH_MS after the first line that found no flush pending. Not SonicBoom's
  // periodicFlush: that writes (an empty buffer, through the thread pool) every interval even
  // when nothing was logged, waking an idle process ten times a second.
  let flushTimer: NodeJS.Timeout | undefined;
  const flushPending = (): void => {
    flushTimer = undefined;
    try {
      writer.flush();
    } catch {
      // Destroyed by pino's exit handler, which flushed it synchronously: nothing is left.
    }
  };
  return {
    write(line: string): boolean {
      // SonicBoom's buffer mode takes Buffers; pino hands its lines over as strings.
      const more = writer.write(Buffer.from(line) as unknown as string);
      if (flushTimer === undefined) {
        flushTimer = setTimeout(flushPending, LOG_FLUSH_MS);
        flushTimer.unref();
      }
      return more;
    },
    flush: (callback?: (error?: Error) => void) => writer.flush(callback),
    flushSync: () => writer.flushSync(),
  };
}

export function createLogger(options: { level: string; destination?: DestinationStream | undefined }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'curfew' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: {
        req: (req: RequestLike) => serializeRequest(req),
        res(res: { statusCode?: number }) {
          return { statusCode: res.statusCode };
        },
        err(err: Error & { code?: string; statusCode?: number }) {
          return {
            type: err.name,
            code: err.code,
            statusCode: err.statusCode,
            message: redactText(err.message),
            stack: err.stack === undefined ? undefined : redactText(err.stack),
            cause: err.cause instanceof Error ? redactText(`${err.cause.name}: ${err.cause.message}`) : undefined,
          };
        },
      },
    },
    options.destination ?? stdoutDestination(),
  );
}
