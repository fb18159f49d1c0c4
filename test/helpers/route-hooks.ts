import type { FastifyInstance } from 'fastify';

/** One registered route (one method) and the names of the hooks it runs, by hook (`onRequest: ['fastifyCookieHandler']`). */
export interface RouteHooks {
  readonly method: string;
  readonly path: string;
  readonly hooks: Readonly<Record<string, readonly string[]>>;
}

const ROUTE_LINE = /^([│ ]*(?:[├└]── )?)(\/\S*) \(([A-Z, ]+)\)$/;
const HOOK_LINE = /• \((\w+)\) (\[.*\])$/;

/**
 * Every route of a ready Fastify instance with the hooks it runs (its own,
 * its scopes' and the global ones), read from Fastify's public
 * `printRoutes({ includeHooks: true })` tree: nested lines hold the rest of
 * their parent's path, so the path is rebuilt from the indentation.
 */
export function routeHooks(app: FastifyInstance): RouteHooks[] {
  const routes: Array<{ method: string; path: string; hooks: Record<string, string[]> }> = [];
  const stack: Array<{ column: number; path: string }> = [];
  let current: Array<{ hooks: Record<string, string[]> }> = [];
  for (const line of app.printRoutes({ includeHooks: true, commonPrefix: false }).split('\n')) {
    const route = ROUTE_LINE.exec(line);
    if (route) {
      const column = (route[1] ?? '').length;
      while (stack.length > 0 && (stack[stack.length - 1]?.column ?? 0) >= column) stack.pop();
      const path = `${stack[stack.length - 1]?.path ?? ''}${route[2] ?? ''}`;
      stack.push({ column, path });
      current = (route[3] ?? '').split(',').map((method) => {
        const entry = { method: method.trim(), path, hooks: {} };
        routes.push(entry);
        return entry;
      });
      continue;
    }
    const hook = HOOK_LINE.exec(line);
    if (hook) {
      const names = (JSON.parse(hook[2] ?? '[]') as string[]).map((name) => name.replace(/\(\)$/, ''));
      for (const entry of current) entry.hooks[hook[1] ?? ''] = names;
    }
  }
  return routes;
}
