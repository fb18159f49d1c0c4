import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/** One answer read off a raw socket. */
export interface RawResponse {
  /** 0 when nothing parsable came back. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The server closed the connection (rather than our timeout giving up on it). */
  readonly closedByServer: boolean;
}

export interface RawOptions {
  /** Give up waiting for the server to close after this (default 5000 ms); the answer then says closedByServer: false. */
  readonly timeoutMs?: number;
  /** Bytes sent after the first chunk, e.g. the rest of a body (default none). */
  readonly then?: string | Buffer;
}

/**
 * Sends `request` (bytes exactly as given, malformed or not) to
 * 127.0.0.1:`port` and reads until the server closes the connection.
 */
export function rawRequest(port: number, request: string | Buffer, options: RawOptions = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(request);
      if (options.then !== undefined) socket.write(options.then);
    });
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parse(Buffer.concat(chunks)), closedByServer });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

function parse(raw: Buffer): Omit<RawResponse, 'closedByServer'> {
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = split === -1 ? text : text.slice(0, split);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = split === -1 ? '' : raw.subarray(Buffer.byteLength(head, 'latin1') + 4).toString('utf8');
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = unchunk(body);
  return { status, headers, body };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol === -1) return out;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** Builds a request with a correct Content-Length for `body`. */
export function httpRequest(method: string, path: string, headers: Readonly<Record<string, string>> = {}, body?: string | Buffer): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'connection')) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body ?? '')]);
}

/** Open file descriptors of a process (Linux /proc); undefined elsewhere. */
export function openDescriptors(pid: number | 'self' = 'self'): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Runs `tasks` with at most `width` at a time. */
export async function inParallel<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane));
  return results;
}

/** `{"error":{"code","message"}}` with an UPPER_SNAKE code, else a description of what came instead. */
export function envelopeProblem(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(parsed.error.code) && typeof parsed.error.message === 'string') {
      return undefined;
    }
  } catch {
    // not JSON: reported below
  }
  return `not the error envelope: ${body.slice(0, 200)}`;
}
