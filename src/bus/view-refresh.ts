import type { Logger } from '../logger.js';
import type { BusTransport } from './transport.js';

/**
 * Refreshes this instance's revocation view whenever a revocation event
 * (from any instance, this one included) arrives on the bus, so every
 * instance refuses a revoked session's tokens, over HTTP and over
 * `curfew.auth.verify`, milliseconds after the commit instead of at its next
 * view poll (every second). The poll stays: it is what covers events missed
 * while disconnected. The view reads the database (the source of truth); the
 * event only says when. Coalesced: events arriving during a refresh cause
 * one more refresh, not one each. `keys.rotated` is not a revocation.
 */
export function refreshOnRevocationEvents(transport: BusTransport, prefix: string, refresh: () => Promise<void>, logger: Logger): void {
  let running = false;
  let again = false;
  const run = () => {
    running = true;
    refresh()
      .catch((error: unknown) => logger.warn({ err: error }, 'bus: revocation view refresh after an event failed; the poll will retry'))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          run();
        }
      });
  };
  transport.subscribe(`${prefix}.events.>`, (subject) => {
    if (subject.endsWith('.keys.rotated')) return;
    if (running) again = true;
    else run();
  });
}
