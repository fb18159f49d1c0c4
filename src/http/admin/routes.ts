import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../context.js';
import { installAuth } from '../auth.js';
import { loadConsoleAssets } from './assets.js';
import { RUN_STATUSES, RUN_TRIGGERS, localInput, parseRunFilters } from './run-filters.js';
import { ConsoleViews, consoleHeaders, type PageFrame, type ViewName } from './views.js';
import { pageViewer } from './viewer.js';

const ID = /^[1-9][0-9]{0,14}$/;
const hidden = { schema: { hide: true } } as const;

/** What a page handler returns: its template, frame and variables (or a 400/404 of its own). */
interface PageAnswer {
  readonly status?: number;
  readonly view: ViewName;
  readonly frame: PageFrame;
  readonly vars?: Readonly<Record<string, unknown>>;
}

type PageHandler = (request: FastifyRequest) => PageAnswer | Promise<PageAnswer>;

function notFound(what: string): PageAnswer {
  return { status: 404, view: 'error', frame: { title: 'Not found' }, vars: { message: `${what} does not exist.` } };
}

/**
 * The operator console under `/admin/` (docs/console.md): server-rendered
 * pages whose scripts read and act through the JSON API with the same
 * cookies and CSRF token as every other client. Every page checks the
 * admin role on the server before it renders anything but the sign-in or
 * "not an administrator" page; the data itself comes from admin-only API
 * routes, which check again.
 */
export const adminConsoleRoutes: RouteModule = (app, ctx) => {
  installAuth(app);
  const views = new ConsoleViews(ctx.config.cookies.csrfName);
  const viewer = pageViewer(ctx);
  const assets = loadConsoleAssets();
  const jobNames = () => ctx.services.jobs.definitions().map((job) => job.name);

  const page = (handler: PageHandler) => async (request: FastifyRequest, reply: FastifyReply) => {
    const who = await viewer(request);
    if (who.kind === 'anonymous') return views.send(reply, 401, 'signin', { title: 'Sign in', script: 'signin' });
    if (who.kind === 'user') {
      return views.send(reply, 403, 'not-admin', { title: 'Not an administrator', viewer: who.auth.email, script: 'signin' }, { email: who.auth.email });
    }
    const answer = await handler(request);
    return views.send(reply, answer.status ?? 200, answer.view, { ...answer.frame, viewer: who.auth.email }, answer.vars);
  };

  app.get('/admin/', hidden, page(() => ({ view: 'overview', frame: { title: 'Overview', nav: 'overview', script: 'overview' } })));

  app.get('/admin/jobs/', hidden, page(() => ({ view: 'jobs', frame: { title: 'Jobs', nav: 'jobs', script: 'jobs' } })));

  app.get('/admin/runs/', hidden, page((request) => {
    const { filters, refused } = parseRunFilters(request.query, jobNames());
    return {
      status: refused.length > 0 ? 400 : 200,
      view: 'runs',
      frame: { title: 'Run history', nav: 'runs', script: 'runs', chart: true },
      vars: {
        filters,
        refused,
        from_input: localInput(filters.from),
        to_input: localInput(filters.to),
        jobs: jobNames(),
        statuses: RUN_STATUSES,
        triggers: RUN_TRIGGERS,
      },
    };
  }));

  app.get<{ Params: { id: string } }>('/admin/runs/:id/', hidden, page((request) => {
    const { id } = request.params as { id: string };
    if (!ID.test(id)) return notFound('That run');
    return { view: 'run', frame: { title: `Run ${id}`, nav: 'runs', script: 'run' }, vars: { run_id: id } };
  }));

  app.get('/admin/users/', hidden, page((request) => {
    const raw = (request.query as Record<string, unknown>).q;
    const q = typeof raw === 'string' ? raw.slice(0, 320) : '';
    return { view: 'users', frame: { title: 'Users and sessions', nav: 'users', script: 'users' }, vars: { q } };
  }));

  app.get<{ Params: { id: string } }>('/admin/users/:id/', hidden, page((request) => {
    const { id } = request.params as { id: string };
    if (!ID.test(id)) return notFound('That user');
    return { view: 'user', frame: { title: `User ${id}`, nav: 'users', script: 'user' }, vars: { user_id: id } };
  }));

  app.get('/admin/sequences/', hidden, page(() => ({ view: 'sequences', frame: { title: 'Sequences', nav: 'sequences', script: 'sequences' } })));

  app.get<{ Params: { name: string } }>('/admin/assets/:name', hidden, async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (asset === undefined) return consoleHeaders(reply).status(404).type('text/plain; charset=utf-8').send('Not found.');
    // Revalidated on every load: a new release never runs with a stale script.
    return consoleHeaders(reply).header('cache-control', 'no-cache').type(asset.type).send(asset.body);
  });

  // Any other page under /admin/: the same checks, then a 404 page.
  app.get('/admin/*', hidden, page(() => notFound('That page')));
};
