import type { ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/index.js';

/** How often Node checks connections against the headers and request timeouts (its default, 30 s, would make a 10 s timeout 40 s). */
const CONNECTIONS_CHECK_MS = 1000;

/**
 * Node's server options for an auth API (issue 16 #9): headers within
 * HTTP_HEADERS_TIMEOUT, the whole request within HTTP_REQUEST_TIMEOUT
 * (both answered 408 and closed), idle keep-alive connections closed after
 * HTTP_KEEP_ALIVE_TIMEOUT. Socket inactivity is not timed separately: the
 * request timeout bounds a slow sender, and WebSockets have their own pings.
 */
export function serverTimeouts(http: Config['http']): ServerOptions {
  return {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_MS, http.headersTimeoutMs),
  };
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

function rawAnswer(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Fastify's `clientErrorHandler`: what Node's parser refuses before any
 * route sees it (malformed request line or headers, oversized headers, a
 * timeout) is answered with the one error envelope, then the socket closes.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let answer: string;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') answer = rawAnswer(408, 'REQUEST_TIMEOUT', 'The request took too long to arrive.');
  else if (error.code === 'HPE_HEADER_OVERFLOW') answer = rawAnswer(431, 'HEADERS_TOO_LARGE', 'The request headers are too large.');
  else answer = rawAnswer(400, 'BAD_REQUEST', 'The request is not valid HTTP/1.1.');
  // A connection already partly answered only gets closed.
  if (socket.writable && socket.bytesWritten === 0) socket.end(answer);
  socket.destroySoon();
}
