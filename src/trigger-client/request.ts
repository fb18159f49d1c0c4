import { signedHeaders } from '../triggers/signature.js';

/** How `curfew trigger` proves it knows the secret (default `signed`). */
export type AuthMode = 'signed' | 'bearer' | 'header' | 'query';
export const AUTH_MODES: readonly AuthMode[] = ['signed', 'bearer', 'header', 'query'];

/** What to call: where, which route, how. Parsed once from the command line. */
export interface TriggerTarget {
  /** Base URL, e.g. `https://auth.example.com` (a path prefix such as `/curfew` is kept). */
  readonly baseUrl: URL;
  /** Job name, or undefined for `--due` / a custom `--path`. */
  readonly job: string | undefined;
  /** HTTP method (default POST). */
  readonly method: string;
  /** Path and query below the base URL: `/cron/run`, `/cron/jobs/<job>/run` or `--path`. */
  readonly path: string;
  readonly mode: AuthMode;
}

export interface BuiltRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** The default route: `/cron/jobs/<job>/run` for a job, `/cron/run` otherwise. */
export function defaultPath(job: string | undefined): string {
  return job === undefined ? '/cron/run' : `/cron/jobs/${encodeURIComponent(job)}/run`;
}

/** Joins the base URL's own path prefix with `path` (which may carry a query). */
export function resolveUrl(baseUrl: URL, path: string): URL {
  const prefix = baseUrl.pathname.replace(/\/+$/, '');
  const url = new URL(baseUrl.origin);
  const [pathname = '', query] = splitQuery(path.startsWith('/') ? path : `/${path}`);
  url.pathname = `${prefix}${pathname}`;
  if (query !== undefined) url.search = query;
  return url;
}

function splitQuery(path: string): [string, string | undefined] {
  const at = path.indexOf('?');
  return at === -1 ? [path, undefined] : [path.slice(0, at), path.slice(at + 1)];
}

/**
 * Builds the authenticated request for `target` at `nowMs`. Signed mode signs
 * method, path+query (as the server sees it), timestamp, a fresh nonce, the
 * slot (`slot`, sent as X-Curfew-Slot, when given) and the body hash.
 * `csrfToken`, when given, goes out as the `csrftoken` cookie plus
 * `X-CSRFToken` and a same-origin Referer, as seed 000's caller sent them.
 */
export function buildRequest(target: TriggerTarget, secret: string, nowMs: number, csrfToken?: string, slot?: string): BuiltRequest {
  const method = target.method.toUpperCase();
  const url = resolveUrl(target.baseUrl, target.path);
  const body = method === 'GET' || method === 'HEAD' ? undefined : '';
  const headers: Record<string, string> = { 'user-agent': 'curfew-trigger', accept: 'application/json' };
  switch (target.mode) {
    case 'signed':
      Object.assign(headers, signedHeaders(secret, method, `${url.pathname}${url.search}`, nowMs, body ?? '', { slot }));
      break;
    case 'bearer':
      headers.authorization = `Bearer ${secret}`;
      break;
    case 'header':
      headers['x-cron-secret'] = secret;
      break;
    case 'query':
      url.searchParams.set('token', secret);
      break;
  }
  if (csrfToken !== undefined) {
    headers.cookie = `csrftoken=${csrfToken}`;
    headers['x-csrftoken'] = csrfToken;
    headers.referer = `${target.baseUrl.origin}/`;
  }
  return { url: url.toString(), method, headers, body };
}
