/**
 * The message-bus port: what curfew needs from a broker, and nothing more.
 * The NATS adapter (nats-transport.ts) is the one shipped; a Kafka adapter
 * would implement the same methods (docs/verify.md, "Other brokers").
 * Domain code (verify-responder.ts, outbox-publisher.ts) sees only this.
 */

/** Answers one request; a promise only when it has to wait. */
export type RequestHandler = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** Receives one message (an event) with the subject it came on. */
export type MessageHandler = (subject: string, data: Uint8Array) => void;

/** `connecting` before the first connection, `disconnected` while reconnecting, `closed` after close(). */
export type BusState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface BusTransport {
  /**
   * Answers requests on `subject` in the load-balancing group `queue` (each
   * request reaches one member of the group). Registered handlers survive
   * reconnects; registering before the first connection is fine.
   */
  serve(subject: string, queue: string, handler: RequestHandler): void;
  /**
   * Hands every message on `subject` (wildcards allowed) to `handler`, in
   * every instance (no queue group). Survives reconnects like serve().
   */
  subscribe(subject: string, handler: MessageHandler): void;
  /**
   * Publishes one message with a de-duplication id, resolving once the
   * broker has it (a round trip), rejecting when it cannot say so.
   */
  publish(subject: string, data: Uint8Array, id: string): Promise<void>;
  /** The connection state now. */
  state(): BusState;
  /** Calls `listener` whenever the connection is (re-)established. */
  onConnected(listener: () => void): void;
  /** Drains subscriptions and closes the connection. Idempotent. */
  close(): Promise<void>;
}
