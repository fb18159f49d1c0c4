import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './database.js';

/** Stands for one named parameter while the query is built; replaced by the value at each run. */
class Placeholder {
  constructor(readonly name: string) {}
}

/**
 * A fixed-shape statement that Kysely builds and compiles once and then runs
 * with new parameter values, for the scheduler's hottest statements (a lease
 * heartbeat, a decision's ledger read): building the query tree and compiling
 * it cost about as much as running such a statement on SQLite.
 *
 * `build` receives the parameters as placeholders and must use each one only
 * as a value (never to choose the query's shape: no `if`, no spreading of
 * optional fields); every run then sends the same SQL text with its own
 * values, through the same Kysely executor, driver and plugins as any query.
 * Values must not be `undefined` (Kysely would have left such a column out);
 * pass `null` for SQL NULL.
 */
export class PrecompiledQuery<P extends object, R> {
  private compiled: CompiledQuery<R> | undefined;
  /** For each compiled parameter: the name of the value to send, or undefined for a constant of the query. */
  private names: Array<string | undefined> = [];

  /**
   * @param db The database to run on (read at each run, so a repository can declare its statements as fields).
   * @param build Builds the statement from placeholders; called once, at the first run.
   */
  constructor(
    private readonly db: () => Kysely<Database>,
    private readonly build: (params: P) => Compilable<R>,
  ) {}

  /** The SQL text every run sends (compiled on first use). */
  get sql(): string {
    return this.compile().sql;
  }

  async execute(params: P): Promise<QueryResult<R>> {
    const compiled = this.compile();
    const parameters = compiled.parameters.map((constant, index) => {
      const name = this.names[index];
      if (name === undefined) return constant;
      const value: unknown = (params as Record<string, unknown>)[name];
      if (value === undefined) throw new TypeError(`PrecompiledQuery: parameter "${name}" is undefined (pass null for NULL)`);
      return value;
    });
    return this.db().executeQuery<R>({ ...compiled, parameters });
  }

  async takeFirst(params: P): Promise<R | undefined> {
    return (await this.execute(params)).rows[0];
  }

  /** Rows changed by an UPDATE, DELETE or INSERT without RETURNING. */
  async affected(params: P): Promise<number> {
    return Number((await this.execute(params)).numAffectedRows ?? 0n);
  }

  private compile(): CompiledQuery<R> {
    if (this.compiled !== undefined) return this.compiled;
    const placeholders = new Proxy({} as Record<string, Placeholder>, {
      get: (cache, name) => {
        if (typeof name !== 'string') return undefined;
        return (cache[name] ??= new Placeholder(name));
      },
    });
    // The proxy answers every key of P with its placeholder: the one place the types are told a white lie.
    const compiled = this.build(placeholders as unknown as P).compile();
    this.names = compiled.parameters.map((value) => (value instanceof Placeholder ? value.name : undefined));
    this.compiled = compiled;
    return compiled;
  }
}
