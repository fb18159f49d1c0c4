import { readFileSync } from 'node:fs';
import type { RouteModule } from '../context.js';

/**
 * `GET /demo/presence`: a self-contained page (no external assets) that logs
 * in through `/api/v1/login/`, opens `/ws` and shows each user's dot live.
 */
export const demoRoutes: RouteModule = (app) => {
  const page = readFileSync(new URL('../static/presence-demo.html', import.meta.url), 'utf8');
  app.get(
    '/demo/presence',
    {
      schema: {
        tags: ['presence'],
        summary: 'Presence demo page',
        response: { 200: { type: 'string' } },
      },
    },
    async (_request, reply) => {
      void reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
        .header('cache-control', 'no-store');
      return page;
    },
  );
};
