/**
 * Whether an error means "the database cannot be reached or cannot serve
 * now" (an outage, a restart, a full pool, a locked SQLite file) rather than
 * a bug or bad data. The HTTP layer answers these 503 SERVICE_UNAVAILABLE
 * with Retry-After (issue 16 #5). Reads only `code`, `message`, `cause` and
 * AggregateError's `errors`, so it needs neither driver's types.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { code, message, cause, errors } = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODE.test(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    pending.push(cause);
    if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
  }
  return false;
}

/**
 * Connection errors (not ECONNRESET or EPIPE: a client hanging up on its
 * own request raises those too; node-postgres reports a dropped connection
 * as "Connection terminated"); PostgreSQL SQLSTATE class 08 (connection exception), 53
 * (insufficient resources: too many connections, disk full), 57P01-57P03
 * (admin shutdown, crash shutdown, cannot connect now); SQLite's busy,
 * locked, cannot-open, I/O and full results.
 */
const UNAVAILABLE_CODE =
  /^(ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-3]|SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|PROTOCOL)\w*)$/;

/** node-postgres reports a dropped connection and a pool that could not connect with messages only. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end on the pool|Client was closed and is not queryable)/;
