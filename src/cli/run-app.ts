import { createApp, type App } from '../app.js';
import { loadConfig, type Config } from '../config/index.js';

/**
 * Builds the app for a one-shot CLI command (migrated, not listening, no
 * background loops), runs `fn`, and always stops it.
 */
export async function withApp<T>(fn: (app: App) => Promise<T>, config: Config = loadConfig()): Promise<T> {
  const app = await createApp(config);
  try {
    await app.start({ listen: false, background: false });
    return await fn(app);
  } finally {
    await app.stop();
  }
}
