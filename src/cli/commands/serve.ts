import type { Command } from 'commander';
import { createApp } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import type { CliOptions } from '../options.js';

/** `curfew serve`; `options.appOptions` adds to the app (test entry points only). */
export function registerServe(program: Command, options: CliOptions = {}): void {
  program
    .command('serve', { isDefault: true })
    .description('start the HTTP server, the mail sender and the in-process scheduler')
    .action(async () => {
      const config = loadConfig();
      const app = await createApp(config, options.appOptions?.(config));
      if (config.secretKeySource === 'generated') {
        app.logger.warn({ file: `${config.dataDir}/secret_key` }, 'generated a development SECRET_KEY (mode 0600); set SECRET_KEY in production');
      }
      const shutdown = (signal: string) => {
        app.logger.info({ signal, graceMs: config.http.shutdownGraceMs }, 'shutting down');
        // stop() is bounded by SHUTDOWN_GRACE; this catches a database close that hangs.
        setTimeout(() => {
          app.logger.error('shutdown did not finish within SHUTDOWN_GRACE; exiting');
          process.exit(1);
        }, config.http.shutdownGraceMs + 900).unref();
        app.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            app.logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      await app.start();
      app.logger.info(
        { url: app.url, database: config.database.kind, scheduler: config.scheduler.enabled, instance: config.scheduler.instanceId },
        `curfew listening on ${app.url ?? '?'}`,
      );
    });
}
