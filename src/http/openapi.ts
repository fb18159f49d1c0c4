import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { Config } from '../config/index.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The tag a seed alias carries; such a route is listed under it alone, so Swagger UI shows it once. */
const SEED_TAG = 'seed compatibility';

type Requirement = Record<string, string[]>;

/**
 * How a signed-in route may be called, as OpenAPI says it: the access cookie
 * (plus the X-CSRFToken header for writes, the signed double-submit check of
 * src/http/auth.ts), or the access token as `Authorization: Bearer` (no CSRF).
 * With these, Swagger UI's "Authorize" dialog offers both and "Try it out"
 * sends X-CSRFToken on cookie writes.
 */
function userSecurity(method: string): Requirement[] {
  return [SAFE_METHODS.has(method) ? { cookieAuth: [] } : { cookieAuth: [], csrfToken: [] }, { bearerAuth: [] }];
}

interface RouteSchema {
  readonly tags?: readonly string[];
  readonly security?: readonly Requirement[];
  readonly [key: string]: unknown;
}

/**
 * The OpenAPI view of one route (never the schema Fastify validates with):
 * routes that sign in by cookie get the cookie + CSRF or Bearer requirement,
 * and an operation carries one tag.
 */
export function openapiRouteSchema(schema: RouteSchema | undefined, method: string): RouteSchema | undefined {
  if (schema === undefined) return undefined;
  const view: { -readonly [K in keyof RouteSchema]: RouteSchema[K] } = { ...schema };
  if (schema.tags?.includes(SEED_TAG)) view.tags = [SEED_TAG];
  const security = schema.security ?? [];
  if (security.some((requirement) => 'cookieAuth' in requirement)) {
    const others = security.filter((requirement) => !('cookieAuth' in requirement));
    view.security = [...others, ...userSecurity(method)];
  }
  return view;
}

/** @fastify/swagger's options: the document's header, security schemes and the per-route view above. */
export function openapiOptions(config: Config): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'curfew', version: '0.1.0', description: 'Accounts, sessions and a hardened scheduler.' },
      components: {
        securitySchemes: {
          cookieAuth: { type: 'apiKey', in: 'cookie', name: config.cookies.accessName, description: 'Set by POST /api/v1/login/ (Try it out logs the browser in).' },
          csrfToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-CSRFToken',
            description: `Cookie writes need the value of the readable \`${config.cookies.csrfName}\` cookie (set at login and refresh) in this header.`,
          },
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token as a Bearer header instead of the cookie; no CSRF token needed.' },
          cronBearer: { type: 'http', scheme: 'bearer', description: 'A trigger secret (CRON_SECRETS).' },
          clientBasic: { type: 'http', scheme: 'basic', description: 'A service client (curfew clients create) for token introspection.' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      const view = openapiRouteSchema(schema as RouteSchema | undefined, method.toUpperCase());
      return { schema: view as typeof schema, url };
    },
  };
}
