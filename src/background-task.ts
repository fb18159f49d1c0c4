/** A loop that runs beside the HTTP server (mail sender, scheduler, ...). */
export interface BackgroundTask {
  readonly name: string;
  start(): void;
  /** Stops taking new work and waits for work in flight. */
  stop(): Promise<void>;
}
