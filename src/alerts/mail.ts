import type { AlertEvent, AlertSink } from './types.js';

/** The part of the mail service alerts use (`services.mail.enqueue`). */
export interface AlertMailer {
  enqueue(message: { to: string; subject: string; text: string }): Promise<number>;
  wake(): void;
}

/** Queues one mail per event to `to` through the outbox (retried by the mail sender). */
export function mailSink(mailer: AlertMailer, to: string): AlertSink {
  return {
    name: 'mail',
    async send(event: AlertEvent) {
      const details = Object.entries(event.details)
        .map(([key, value]) => `${key}: ${String(value)}`)
        .join('\n');
      await mailer.enqueue({
        to,
        subject: `[curfew] ${event.state === 'firing' ? 'ALERT' : 'resolved'}: ${event.summary}`,
        text: `${event.summary}\n\nevent: ${event.type} (${event.state})\njob: ${event.job}\nat: ${event.at}\ninstance: ${event.instance}\n\n${details}\n`,
      });
      mailer.wake();
    },
  };
}
