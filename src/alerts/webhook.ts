import type { AlertEvent, AlertSink } from './types.js';

/**
 * POSTs each event as JSON to `url`. Rejects on a network error, a timeout
 * (`timeoutMs`, default 5000) or a non-2xx answer; the message names the
 * status but never the URL, which may carry a token.
 */
export function webhookSink(url: string, options: { readonly timeoutMs?: number } = {}): AlertSink {
  return {
    name: 'webhook',
    async send(event: AlertEvent) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'curfew-alerts' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`alert webhook answered HTTP ${response.status}`);
    },
  };
}
