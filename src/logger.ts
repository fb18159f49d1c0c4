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

/** What every stdoutDestination does when the process is about to end (see below). */
interface ExitHooks {
  /** The loop still runs: hand the gathered lines to the writer, which writes them asynchronously, in order. */
  beforeExit(): void;
  /** No loop any more: hand them over and write synchronously. */
  exit(): void;
}
const exitHooks = new Set<ExitHooks>();
let exitHooked = false;

/**
 * The default destination: stdout through pino's asynchronous writer
 * (SonicBoom, buffer mode), in writes of about 32 KiB, at most 100 ms after a
 * line when traffic is low, and synchronously on exit. One write (a
 * thread-pool round trip, and a wake-up of whatever reads the pipe) per
 * access line was most of a logged request's remaining cost
 * (bench/RESULTS.md, issue 15 §2).
 *
 * Lines are gathered here as strings and handed to the writer as one Buffer
 * per ~32 KiB: SonicBoom's string mode measures its whole pending buffer's
 * UTF-8 length on every line (O(buffer) per line), and a Buffer per line in its
 * buffer mode cost a small request ~10 % in the server (an object and
 * external memory per line). Not SonicBoom's periodicFlush either: it writes
 * an empty buffer every interval even when nothing was logged.
 *
 * At exit: pino flushes the writer (it registers that for the writers
 * `pino.destination` builds), and this module's own `beforeExit` and `exit`
 * listeners hand over what is still gathered: on `beforeExit` to the
 * asynchronous write (pino ends the writer once it drained, so the order
 * holds), on `exit` synchronously, whichever listener runs first. The price: a process killed with
 * SIGKILL loses at most its last 100 ms of lines.
 */
export function stdoutDestination(): BufferedDestination {
  const writer = pino.destination({
    dest: 1,
    sync: false,
    contentMode: 'buffer',
    minLength: LOG_BUFFER_BYTES,
    maxWrite: 2 * LOG_BUFFER_BYTES,
  });
  let lines: string[] = [];
  let length = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  const push = (): void => {
    if (lines.length === 0) return;
    const chunk = Buffer.from(lines.join(''));
    lines = [];
    length = 0;
    try {
      writer.write(chunk as unknown as string);
    } catch {
      // Destroyed (pino ended it at exit, or stdout broke): nothing can be written any more.
    }
  };
  const flushLater = (): void => {
    flushTimer = undefined;
    push();
    try {
      writer.flush();
    } catch {
      // As above.
    }
  };
  exitHooks.add({
    beforeExit(): void {
      // Only when there is something: a flush schedules a write, and with it another beforeExit.
      if (lines.length > 0) flushLater();
    },
    exit(): void {
      push();
      try {
        writer.flushSync();
      } catch {
        // As above.
      }
    },
  });
  if (!exitHooked) {
    exitHooked = true;
    process.on('beforeExit', () => exitHooks.forEach((hooks) => hooks.beforeExit()));
    process.on('exit', () => exitHooks.forEach((hooks) => hooks.exit()));
  }
  return {
    write(line: string): boolean {
      lines.push(line);
      length += line.length;
      if (length >= LOG_BUFFER_BYTES) push();
      if (flushTimer === undefined) {
        flushTimer = setTimeout(flushLater, LOG_FLUSH_MS);
        flushTimer.unref();
      }
      return true;
    },
    flush(callback?: (error?: Error) => void): void {
      push();
      writer.flush(callback);
    },
    flushSync(): void {
      push();
      writer.flushSync();
    },
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
