import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What a caller's own correlation id may look like: short, and safe in a header and a log line. */
const WELL_FORMED = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The request-id rule, one for every answer (early or Fastify's): a caller's
 * `X-Request-Id` when it is well formed (1-64 of `A-Z a-z 0-9 . _ -`), else
 * a new UUID. The id is sent back as `x-request-id` and names the request's
 * log lines and, for triggers, its run ledger row.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
}
