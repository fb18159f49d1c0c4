import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One static file of the console. */
export interface ConsoleAsset {
  readonly type: string;
  readonly body: Buffer;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The console's own files under assets/ (browser code: plain ES modules, no build step). */
const OWN: Readonly<Record<string, string>> = {
  'console.css': CSS,
  'console.js': JS,
  'dialog.js': JS,
  'signin.js': JS,
  'overview.js': JS,
  'jobs.js': JS,
  'runs.js': JS,
  'chart.js': JS,
  'run.js': JS,
  'users.js': JS,
  'user.js': JS,
  'sequences.js': JS,
};

/**
 * Every asset by the name it is served under (`/admin/assets/<name>`),
 * read once: the console's files and uPlot's browser build and stylesheet,
 * resolved from the project's own `uplot` dependency (no CDN: the console
 * works offline).
 */
export function loadConsoleAssets(): ReadonlyMap<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  for (const [name, type] of Object.entries(OWN)) {
    assets.set(name, { type, body: readFileSync(fileURLToPath(new URL(`./assets/${name}`, import.meta.url))) });
  }
  const require = createRequire(import.meta.url);
  assets.set('uplot.js', { type: JS, body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) });
  assets.set('uplot.css', { type: CSS, body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) });
  return assets;
}
