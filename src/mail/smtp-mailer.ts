import type { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { classifySmtpError } from './smtp-outcome.js';
import { DeliveryError, type Mailer, type OutgoingMail } from './mailer.js';

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:port` or `smtps://...`; nodemailer URL query options apply (e.g. `?ignoreTLS=true`). */
  readonly url: string;
  /** Connection, greeting and socket timeouts in ms (default 30 s), so a dead server fails an attempt instead of hanging it. */
  readonly timeoutMs?: number;
  /** Pooled connections (default 5). */
  readonly maxConnections?: number;
  /** Messages a pooled connection sends before it is closed and a new one opened (default 100, nodemailer's). */
  readonly maxMessages?: number;
}

/**
 * Sends through nodemailer's pooled SMTP transport. A rejected send is a
 * DeliveryError saying whether sending again is safe: the transport notes, per
 * message, whether the SMTP client started reading the message body (it does
 * so only after the server answered DATA with 354), so a dropped connection
 * or a timeout after that point is `unknown`, before it `retry`.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const timeout = options.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    pool: true,
    url: options.url,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: options.maxMessages ?? 100,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // The outbox retries with back-off; the pool should not retry on its own.
    maxRequeues: 0,
  });
  /** The body stream handed to the SMTP client, per Message-ID of a message in flight. */
  const bodies = new Map<string, Readable>();
  transport.use('stream', (mail, callback) => {
    const messageId = mail.data.messageId;
    if (typeof messageId === 'string') {
      const node = mail.message;
      const create = node.createReadStream.bind(node);
      node.createReadStream = (readableOptions) => {
        const stream = create(readableOptions);
        bodies.set(messageId, stream);
        return stream;
      };
    }
    callback();
  });
  let closed = false;
  return {
    kind: 'smtp',
    async send(mail: OutgoingMail) {
      try {
        await transport.sendMail({
          from: mail.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          ...(mail.html === undefined ? {} : { html: mail.html }),
          ...(mail.headers === undefined ? {} : { headers: { ...mail.headers } }),
          messageId: mail.messageId,
        });
      } catch (error) {
        const body = bodies.get(mail.messageId);
        const { outcome, responseCode } = classifySmtpError(error, body?.readableDidRead === true);
        throw new DeliveryError(error instanceof Error ? error.message : String(error), outcome, responseCode, { cause: error });
      } finally {
        bodies.delete(mail.messageId);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      transport.close();
    },
  };
}
