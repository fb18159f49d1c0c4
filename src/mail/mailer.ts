/** A message as the application writes it; the sender adds From and Message-ID. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string | undefined;
}

/** A message ready for a transport. */
export interface OutgoingMail extends MailMessage {
  readonly from: string;
  /** Stable per outbox row, so a receiver can spot a duplicate after a retry. */
  readonly messageId: string;
}

/**
 * The port the outbox sends through. Implementations: SMTP (nodemailer,
 * pooled) and `.eml` files for development.
 */
export interface Mailer {
  readonly kind: 'smtp' | 'file';
  /** Resolves once the transport accepted the message; rejects on any failure. */
  send(mail: OutgoingMail): Promise<void>;
  /** Closes pooled connections. Idempotent. */
  close(): Promise<void>;
}
