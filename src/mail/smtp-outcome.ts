import type { DeliveryOutcome } from './mailer.js';

/**
 * Classifies a nodemailer SMTP error. `bodyStarted` says whether the client
 * began sending the message data (after the server's 354 to DATA).
 *
 * - A reply code decides when there is one: 4xx `retry`, 5xx `failed`
 *   (the server answered, so it told us what it did).
 * - No reply (connection dropped, socket timeout) after the data started:
 *   `unknown` — the server may have queued the message before the drop.
 * - No reply before that: `retry`; a server accepts a message only at the
 *   data's final dot, so nothing can have been delivered.
 */
export function classifySmtpError(error: unknown, bodyStarted: boolean): { outcome: DeliveryOutcome; responseCode: number | undefined } {
  const responseCode = (error as { responseCode?: unknown } | null)?.responseCode;
  if (typeof responseCode === 'number' && responseCode >= 400 && responseCode < 600) {
    return { outcome: responseCode >= 500 ? 'failed' : 'retry', responseCode };
  }
  return { outcome: bodyStarted ? 'unknown' : 'retry', responseCode: undefined };
}
