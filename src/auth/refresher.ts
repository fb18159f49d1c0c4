import type { Logger } from '../logger.js';
import type { BackgroundTask } from '../background-task.js';
import type { RevocationView } from '../sessions/revocation-view.js';
import type { KeyRing } from '../tokens/keyring.js';

export interface AuthRefresherOptions {
  /** Revocation view refresh period in ms (default 1000). */
  readonly intervalMs?: number;
  /** Signing keys are re-read every this many ticks (default 10). */
  readonly keyReloadEvery?: number;
}

/**
 * Keeps this instance's revocation view (every second) and signing keys
 * (every ten seconds) in step with the database. The timer is unref'd, never
 * overlaps itself, and failures are logged, never thrown into the timer.
 */
export class AuthRefresher implements BackgroundTask {
  readonly name = 'auth-refresh';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private ticks = 0;
  private stopped = true;

  constructor(
    private readonly view: RevocationView,
    private readonly keys: KeyRing,
    private readonly logger: Logger,
    private readonly options: AuthRefresherOptions = {},
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.view.refreshNow();
      this.ticks += 1;
      if (this.ticks % (this.options.keyReloadEvery ?? 10) === 0) await this.keys.reload();
    } catch (error) {
      this.logger.error({ err: error }, 'refreshing the revocation view or signing keys failed');
    }
  }
}
