/** What decides the security headers: HSTS only where cookies are Secure (the site is served over HTTPS). */
export interface SecurityHeaderOptions {
  /** COOKIE_SECURE (default true): also send Strict-Transport-Security. */
  readonly hsts: boolean;
}

/** One year, the value HSTS preload lists and most guides ask for. */
const HSTS_MAX_AGE_S = 31_536_000;

/**
 * The headers every response carries, early answers and errors included
 * (issue 16 #13), as a flat `[name, value, ...]` list (`writeHead`'s
 * cheapest form):
 *
 * - `X-Content-Type-Options: nosniff`: a browser never guesses a type from bytes;
 * - `Referrer-Policy: no-referrer`: activation and similar links never leak
 *   their URL to the next site;
 * - `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors
 *   'none'`: no page of this service can be framed (clickjacking); the CSP
 *   says nothing else, so pages keep their scripts and styles;
 * - `Strict-Transport-Security: max-age=31536000` when COOKIE_SECURE is on
 *   (browsers ignore it over plain HTTP, so local use is unaffected).
 *
 * A route that needs another value sets its own header; it replaces this one.
 */
export function securityHeaders(options: SecurityHeaderOptions): readonly string[] {
  const head = [
    'x-content-type-options', 'nosniff',
    'referrer-policy', 'no-referrer',
    'x-frame-options', 'DENY',
    'content-security-policy', "frame-ancestors 'none'",
  ];
  if (options.hsts) head.push('strict-transport-security', `max-age=${HSTS_MAX_AGE_S}`);
  return Object.freeze(head);
}
