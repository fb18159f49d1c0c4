import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/**
 * C0 control characters and DEL, except tab, line feed and carriage return
 * (a pretty-printed profile JSON may hold those). PostgreSQL refuses NUL in
 * text (SQLSTATE 22021), SQLite stores it and cuts strings at it elsewhere;
 * no field of an auth API has a use for any of them.
 */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * Where the first string (value or key) holding a control character sits,
 * e.g. `body.email`; undefined when there is none. Iterative, so a deeply
 * nested body cannot exhaust the stack.
 */
export function findControlCharacter(value: unknown, root: string): string | undefined {
  const pending: Array<[unknown, string]> = [[value, root]];
  while (pending.length > 0) {
    const [current, path] = pending.pop() as [unknown, string];
    if (typeof current === 'string') {
      if (CONTROL.test(current)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => pending.push([item, `${path}[${index}]`]));
    } else if (current !== null && typeof current === 'object' && !Buffer.isBuffer(current)) {
      for (const [key, inner] of Object.entries(current as Record<string, unknown>)) {
        if (CONTROL.test(key)) return path;
        pending.push([inner, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/** The 400 for a control character at `where` (a path naming keys the caller chose: kept short). */
function refusal(where: string): FastifyError {
  const field = where.length > 80 ? `${where.slice(0, 80)}...` : where;
  return new AppError('VALIDATION_FAILED', `${field} must not contain control characters.`) as unknown as FastifyError;
}

/**
 * Refuses control characters in every parsed input with 400
 * VALIDATION_FAILED, on every route (issue 16 #3: a NUL in the login email
 * was a 500 on PostgreSQL). Path parameters and the query are checked in a
 * root onRequest hook, before any route's own hooks (the trigger guard
 * writes a throttle bucket from the decoded path); the body (JSON,
 * urlencoded and multipart alike) in a root preHandler, after the form
 * parsers have turned multipart fields into the body and before every
 * route's auth steps and handler.
 */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook('onRequest', function refuseControlCharacters(this: FastifyInstance, request, _reply, done) {
    const where = findControlCharacter(request.params, 'params') ?? findControlCharacter(request.query, 'querystring');
    done(where === undefined ? undefined : refusal(where));
  });
  app.addHook('preHandler', function refuseControlCharactersInBody(this: FastifyInstance, request, _reply, done) {
    const where = findControlCharacter(request.body, 'body');
    done(where === undefined ? undefined : refusal(where));
  });
}
