/** A trigger route as registered: method and Fastify path (`:param` segments allowed). */
export interface TriggerRoute {
  readonly method: string;
  readonly url: string;
}

/** `maxParamLength` is Fastify's: a longer `:param` segment is not a route match. */
function pathPattern(url: string, maxParamLength: number): RegExp {
  const segments = url.split('/').map((segment) =>
    segment.startsWith(':') ? `[^/]{1,${maxParamLength}}` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  // ignoreTrailingSlash: `/cron/run` and `/cron/run/` are one route.
  return new RegExp(`^${segments.join('/')}/?$`);
}

/**
 * The trigger routes the early answers watch, filled while routes are
 * registered (an onRoute hook adds every route whose config says
 * `trigger: true`), so the early refusal and the routes cannot disagree
 * about which paths are triggers.
 */
export class TriggerRouteTable {
  private readonly byMethod = new Map<string, RegExp[]>();

  constructor(private readonly maxParamLength: number) {}

  add(route: TriggerRoute): void {
    const patterns = this.byMethod.get(route.method) ?? [];
    patterns.push(pathPattern(route.url, this.maxParamLength));
    this.byMethod.set(route.method, patterns);
  }

  matches(method: string, path: string): boolean {
    return this.byMethod.get(method)?.some((pattern) => pattern.test(path)) ?? false;
  }
}
