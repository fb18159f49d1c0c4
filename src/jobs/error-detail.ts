import { redactText } from '../logger.js';

/** Longest `error_detail` kept in the ledger (characters). */
export const MAX_ERROR_DETAIL = 4000;
const MAX_CAUSES = 5;

/** A thrown value's message (non-Error values as text). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A thrown value as the ledger keeps it: its stack (or `name: message`), then
 * each `cause` in turn ("caused by: ..."), up to 5 deep, redacted and cut to
 * `max` characters (default 4000). Lines are kept, so a stack reads as one.
 */
export function errorDetail(error: unknown, max = MAX_ERROR_DETAIL): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSES && current !== undefined && current !== null; depth += 1) {
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    parts.push(depth === 0 ? text : `caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  const detail = redactText(parts.join('\n'));
  return detail.length > max ? `${detail.slice(0, max - 1)}…` : detail;
}
