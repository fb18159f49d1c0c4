import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** The content type of every JSON answer, early or Fastify's. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** An error answer, encoded once: status, extra headers, the envelope's bytes. */
export interface ErrorAnswer {
  readonly status: number;
  readonly code: string;
  /** Extra headers as a flat `[name, value, ...]` list (e.g. `retry-after`), content type not included. */
  readonly headers: readonly string[];
  /** `{"error":{"code","message"}}`, serialised. */
  readonly body: Buffer;
  /** The body's length as a header value. */
  readonly length: string;
}

/** Answers without extra headers, by status, code and message: the guard's and the router's are a handful. */
const cache = new Map<string, ErrorAnswer>();
const CACHE_LIMIT = 256;
/** Longer messages (they may quote a caller's URL) are encoded each time. */
const CACHE_MESSAGE_LIMIT = 200;

/**
 * The refusal encoder: the one place that turns (status, code, message,
 * headers) into the error envelope `{"error":{"code","message"}}` and its
 * head. The early answers write it on the raw response (`writeErrorAnswer`),
 * the routes send it through Fastify (`sendErrorAnswer`), so both say the
 * same bytes with the same headers. Answers without extra headers and with
 * a short message are cached (at most 256), so a flood of the same refusal
 * encodes nothing.
 */
export function errorAnswer(status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}): ErrorAnswer {
  let empty = true;
  for (const _ in headers) {
    empty = false;
    break;
  }
  const key = empty && message.length <= CACHE_MESSAGE_LIMIT ? `${status}\n${code}\n${message}` : undefined;
  const cached = key === undefined ? undefined : cache.get(key);
  if (cached !== undefined) return cached;
  const body = Buffer.from(JSON.stringify({ error: { code, message } }));
  const flat: string[] = [];
  for (const name in headers) flat.push(name.toLowerCase(), headers[name] as string);
  const answer: ErrorAnswer = { status, code, headers: flat, body, length: String(body.length) };
  if (key !== undefined && cache.size < CACHE_LIMIT) cache.set(key, answer);
  return answer;
}

/** Where the access log finds the error code of an answer (set by both writers below). */
const ERROR_CODE = Symbol('curfew.errorCode');
type CodedResponse = ServerResponse & { [ERROR_CODE]?: string };

/** The error code this response answered with, if it was an error answer. */
export function errorCodeOf(res: ServerResponse): string | undefined {
  return (res as CodedResponse)[ERROR_CODE];
}

/** Writes the answer on a raw response in one `writeHead`, after `head` (request id, security headers). */
export function writeErrorAnswer(res: ServerResponse, head: readonly string[], answer: ErrorAnswer): void {
  (res as CodedResponse)[ERROR_CODE] = answer.code;
  res.writeHead(answer.status, [...head, 'content-type', JSON_CONTENT_TYPE, 'content-length', answer.length, ...answer.headers]);
  res.end(answer.body);
}

/** Sends the answer through Fastify (its onSend hooks and access log run as for any reply). */
export function sendErrorAnswer(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  (reply.raw as CodedResponse)[ERROR_CODE] = answer.code;
  reply.code(answer.status).header('content-type', JSON_CONTENT_TYPE);
  for (let i = 0; i < answer.headers.length; i += 2) reply.header(answer.headers[i] as string, answer.headers[i + 1]);
  return reply.send(answer.body);
}
