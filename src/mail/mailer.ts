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
  /** Extra header fields (e.g. List-Unsubscribe); default none. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * What a failed delivery means for the sender:
 * - `retry`: the server said "not now" (4xx) or nothing of the message reached it; sending again is safe.
 * - `failed`: the server refused it for good (5xx).
 * - `unknown`: the connection dropped or timed out after the message data went out; the server may
 *   have accepted it. Never resent automatically (docs/sequences.md, "unknown").
 */
export type DeliveryOutcome = 'retry' | 'failed' | 'unknown';

/** A failed delivery, classified by the transport. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly outcome: DeliveryOutcome,
    /** The SMTP reply code, when the server answered. */
    readonly responseCode: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}

/** The outcome of any error a Mailer's send rejected with (unclassified errors are `retry`). */
export function deliveryOutcome(error: unknown): DeliveryOutcome {
  return error instanceof DeliveryError ? error.outcome : 'retry';
}

/**
 * The port the outbox sends through. Implementations: SMTP (nodemailer,
 * pooled) and `.eml` files for development.
 */
export interface Mailer {
  readonly kind: 'smtp' | 'file';
  /** Resolves once the transport accepted the message; rejects on any failure (a DeliveryError when classified). */
  send(mail: OutgoingMail): Promise<void>;
  /** Closes pooled connections. Idempotent. */
  close(): Promise<void>;
}
