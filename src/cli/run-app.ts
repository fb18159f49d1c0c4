import { createApp, type App } from '../app.js';
import { loadConfig, type Config, type Env } from '../config/index.js';

/**
 * The environment a one-shot command reads: LOG_LEVEL defaults to `warn`, so
 * a crontab line with `2>&1` gets the command's own lines and only the log
 * lines that matter (set LOG_LEVEL=info to see every step).
 */
export function cliEnv(env: Env = process.env): Env {
  return env.LOG_LEVEL === undefined || env.LOG_LEVEL.trim() === '' ? { ...env, LOG_LEVEL: 'warn' } : env;
}

/**
 * Builds the app for a one-shot CLI command (migrated, not listening, no
 * background loops), runs `fn`, and always stops it. Log lines (JSON) go to
 * stderr, so stdout carries only the command's human lines and
 * `curfew <command> >> file.log` appends nothing else.
 */
export async function withApp<T>(fn: (app: App) => Promise<T>, config: Config = loadConfig({ env: cliEnv() })): Promise<T> {
  const app = await createApp(config, { logDestination: process.stderr });
  try {
    await app.start({ listen: false, background: false });
    return await fn(app);
  } finally {
    await app.stop();
  }
}
