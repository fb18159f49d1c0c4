import nodemailer from 'nodemailer';
import type { Mailer, OutgoingMail } from './mailer.js';

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:port` or `smtps://...`; nodemailer URL query options apply (e.g. `?ignoreTLS=true`). */
  readonly url: string;
  /** Connection, greeting and socket timeouts in ms (default 30 s), so a dead server fails an attempt instead of hanging it. */
  readonly timeoutMs?: number;
  /** Pooled connections (default 5). */
  readonly maxConnections?: number;
}

/** Sends through nodemailer's pooled SMTP transport. */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const timeout = options.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    pool: true,
    url: options.url,
    maxConnections: options.maxConnections ?? 5,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // The outbox retries with back-off; the pool should not retry on its own.
    maxRequeues: 0,
  });
  let closed = false;
  return {
    kind: 'smtp',
    async send(mail: OutgoingMail) {
      await transport.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html === undefined ? {} : { html: mail.html }),
        messageId: mail.messageId,
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      transport.close();
    },
  };
}
