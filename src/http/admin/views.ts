import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import { Liquid } from 'liquidjs';

/**
 * The console's Content-Security-Policy: scripts, styles, images and API
 * calls from this origin only, no inline script or style, no framing, no
 * plugins, forms only to this origin.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The headers of every console response (pages and assets). */
export function consoleHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CONSOLE_CSP).header('x-frame-options', 'DENY');
}

/** The pages of the console, one template each under views/. */
export type ViewName = 'signin' | 'not-admin' | 'error' | 'overview' | 'jobs' | 'runs' | 'run' | 'users' | 'user' | 'sequences';

/** What every page gets besides its own variables. */
export interface PageFrame {
  /** Shown in <title> and <h1>. */
  readonly title: string;
  /** The navigation entry to mark current (`overview`, `jobs`, `runs`, `users`, `sequences`); none on sign-in. */
  readonly nav?: string;
  /** The signed-in admin's e-mail, for the header. */
  readonly viewer?: string;
  /** The page's script under /admin/assets/ (without `.js`). */
  readonly script?: string;
  /** Load uPlot (its script and stylesheet) before the page's script. */
  readonly chart?: boolean;
}

/**
 * Renders the console's templates with Liquid, HTML-escaping every output
 * (`outputEscape: 'escape'`), so a user's e-mail, a job's error or a run's
 * output can never become markup. Templates are files of this module,
 * parsed once and cached.
 */
export class ConsoleViews {
  private readonly liquid = new Liquid({
    root: [fileURLToPath(new URL('./views/', import.meta.url))],
    extname: '.liquid',
    cache: true,
    outputEscape: 'escape',
    strictFilters: true,
    ownPropertyOnly: true,
  });

  constructor(private readonly csrfCookieName: string) {}

  /** The page as HTML. `vars` are the template's own variables (escaped on output). */
  render(view: ViewName, frame: PageFrame, vars: Readonly<Record<string, unknown>> = {}): Promise<string> {
    return this.liquid.renderFile(view, { ...vars, frame, csrf_cookie: this.csrfCookieName });
  }

  /** Sends the page with the console's headers, never cached. */
  async send(reply: FastifyReply, status: number, view: ViewName, frame: PageFrame, vars: Readonly<Record<string, unknown>> = {}): Promise<FastifyReply> {
    const html = await this.render(view, frame, vars);
    return consoleHeaders(reply).status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  }
}
