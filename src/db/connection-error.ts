import { ConfigError, type DatabaseConfig } from '../config/index.js';

/** DATABASE_URL as it may be shown: the password replaced by `***`. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** The error and every cause below it (and an AggregateError's members: one per address tried). */
function chain(error: unknown): ErrorLike[] {
  const found: ErrorLike[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 8 || value === null || typeof value !== 'object') return;
    const like = value as ErrorLike;
    found.push(like);
    if (Array.isArray(like.errors)) for (const inner of like.errors) visit(inner, depth + 1);
    visit(like.cause, depth + 1);
  };
  visit(error, 0);
  return found;
}

function postgresParts(url: string): { host: string; port: string; user: string; database: string } {
  try {
    const parsed = new URL(url);
    return {
      host: parsed.hostname || 'localhost',
      port: parsed.port || '5432',
      user: decodeURIComponent(parsed.username) || '(your OS user)',
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(the user name)',
    };
  } catch {
    return { host: '?', port: '?', user: '?', database: '?' };
  }
}

/** What went wrong and how to fix it, for one PostgreSQL error code; undefined for codes that are not about the connection. */
function explainPostgres(code: string, message: string, url: string, schema: string | undefined): string | undefined {
  const { host, port, user, database } = postgresParts(url);
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect: nothing is listening on ${host}:${port} (connection refused). Start PostgreSQL there, or fix the host and port in DATABASE_URL`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect: the host "${host}" cannot be resolved. Fix the host name in DATABASE_URL`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot connect: ${host}:${port} is unreachable (${code}). Check the host, port and firewall in DATABASE_URL`;
    case '3D000':
      return `the database "${database}" does not exist on ${host}:${port}. Create it (createdb -h ${host} -p ${port} -U ${user} ${database}) or fix the database name in DATABASE_URL`;
    case '28000':
      return /role .* does not exist/.test(message)
        ? `the role "${user}" does not exist on ${host}:${port}. Create it (createuser -h ${host} -p ${port} -U postgres ${user}) or fix the user in DATABASE_URL`
        : `the server refused the connection: ${message}. Allow this client in pg_hba.conf or fix the user in DATABASE_URL`;
    case '28P01':
      return `password authentication failed for the role "${user}". Fix the password in DATABASE_URL`;
    case '42501':
      return `permission denied: ${message}. Give the role "${user}" the rights curfew needs (e.g. GRANT CREATE, USAGE ON SCHEMA ${schema ?? 'public'} TO "${user}"; the database's owner has them)`;
    case '3F000':
      return schema === undefined ? undefined : `the schema "${schema}" does not exist in "${database}". Create it (CREATE SCHEMA ${schema} AUTHORIZATION "${user}") or fix DATABASE_SCHEMA`;
    case '57P03':
      return `the database server is starting up or shutting down (${message}). Try again in a moment`;
    default:
      return undefined;
  }
}

function explainSqlite(code: string, message: string, path: string): string | undefined {
  switch (code) {
    case 'SQLITE_CANTOPEN':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `cannot open the SQLite file ${path} (${message}). Make its folder exist and writable by this user, or point DATABASE_URL elsewhere`;
    case 'SQLITE_READONLY':
      return `the SQLite file ${path} is read-only for this user. Fix its permissions (and its folder's), or point DATABASE_URL elsewhere`;
    case 'SQLITE_NOTADB':
      return `${path} is not a SQLite database. Point DATABASE_URL at curfew's database file`;
    default:
      return undefined;
  }
}

/**
 * A ConfigError naming DATABASE_URL when `error` (or one of its causes) is a
 * failure to reach or use the database: unreachable host, unknown database or
 * role, bad password, missing permission. The URL is shown without its
 * password. Undefined for other errors (a real migration bug keeps its stack).
 */
export function explainDatabaseError(error: unknown, database: DatabaseConfig): ConfigError | undefined {
  for (const link of chain(error)) {
    if (typeof link.code !== 'string') continue;
    const message = typeof link.message === 'string' ? link.message : '';
    if (database.kind === 'postgres') {
      const text = explainPostgres(link.code, message, database.url, database.schema);
      if (text !== undefined) return new ConfigError('DATABASE_URL', `${text} (DATABASE_URL=${redactDatabaseUrl(database.url)})`);
    } else {
      const text = explainSqlite(link.code, message, database.path);
      if (text !== undefined) return new ConfigError('DATABASE_URL', text);
    }
  }
  return undefined;
}
