import { connect, headers, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../logger.js';
import type { BusState, BusTransport, MessageHandler, RequestHandler } from './transport.js';

export interface NatsTransportOptions {
  /** BUS_URL, e.g. nats://127.0.0.1:4222 (a comma-separated list of servers is accepted). */
  readonly url: string;
  /** The client name shown by the NATS server (default `curfew`). */
  readonly name?: string;
  /** Longest wait for a publish round trip in ms (default 2000). */
  readonly publishTimeoutMs?: number;
  /** Wait between reconnect attempts in ms (default 500). */
  readonly reconnectWaitMs?: number;
}

/**
 * The NATS adapter of the bus port (the official `nats` client). It connects
 * in the background and reconnects forever, so a broker that is down at start
 * or goes away later never blocks the caller: `state()` says where it stands
 * and `publish()` rejects while disconnected (the outbox keeps the event).
 */
export class NatsTransport implements BusTransport {
  private connection: NatsConnection | undefined;
  private current: BusState = 'connecting';
  private readonly handlers: Array<{ subject: string; queue: string; handler: RequestHandler }> = [];
  private readonly listeners: Array<{ subject: string; handler: MessageHandler }> = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly connectedListeners: Array<() => void> = [];
  private closing = false;
  private retry: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly options: NatsTransportOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts connecting in the background (retrying until it succeeds or close() is called). */
  start(): void {
    this.connecting ??= this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      try {
        const nc = await connect({
          servers: this.options.url.split(',').map((server) => server.trim()),
          name: this.options.name ?? 'curfew',
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.options.reconnectWaitMs ?? 500,
          timeout: 2000,
        });
        if (this.closing) {
          await nc.close();
          return;
        }
        this.adopt(nc);
        return;
      } catch (error) {
        // One warning, then one a minute: a broker down at start must not flood the log.
        if (failures % 120 === 0) this.logger.warn({ err: error, attempts: failures + 1 }, 'bus: cannot connect; retrying every 500 ms');
        failures += 1;
        await new Promise<void>((resolve) => {
          this.retry = { timer: setTimeout(resolve, this.options.reconnectWaitMs ?? 500), resolve };
        });
        this.retry = undefined;
      }
    }
  }

  private adopt(nc: NatsConnection): void {
    this.connection = nc;
    this.current = 'connected';
    for (const entry of this.handlers) this.serveOn(nc, entry);
    for (const entry of this.listeners) this.listenOn(nc, entry);
    this.logger.info('bus: connected');
    this.notify();
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnecting') {
          if (this.current === 'connected') this.logger.warn('bus: disconnected; reconnecting');
          this.current = 'disconnected';
        } else if (status.type === 'reconnect') {
          this.current = 'connected';
          this.logger.info('bus: reconnected');
          this.notify();
        }
      }
    })().catch((error: unknown) => this.logger.warn({ err: error }, 'bus: status loop ended'));
    void nc.closed().then((error) => {
      this.current = 'closed';
      if (error && !this.closing) this.logger.error({ err: error }, 'bus: connection closed');
    });
  }

  private notify(): void {
    for (const listener of this.connectedListeners) listener();
  }

  private serveOn(nc: NatsConnection, entry: { subject: string; queue: string; handler: RequestHandler }): void {
    const subscription = nc.subscribe(entry.subject, {
      queue: entry.queue,
      callback: (error, msg) => {
        if (error) {
          this.logger.warn({ err: error }, 'bus: subscription error');
          return;
        }
        if (!msg.reply) return;
        let answer: Uint8Array | Promise<Uint8Array>;
        try {
          answer = entry.handler(msg.data);
        } catch (thrown) {
          // Handlers answer their own errors; a throw is a bug, logged without the message body.
          this.logger.error({ err: thrown, subject: entry.subject }, 'bus: request handler threw');
          return;
        }
        if (answer instanceof Promise) {
          answer.then(
            (data) => msg.respond(data),
            (thrown: unknown) => this.logger.error({ err: thrown, subject: entry.subject }, 'bus: request handler failed'),
          );
        } else msg.respond(answer);
      },
    });
    this.subscriptions.push(subscription);
  }

  serve(subject: string, queue: string, handler: RequestHandler): void {
    const entry = { subject, queue, handler };
    this.handlers.push(entry);
    if (this.connection && !this.connection.isClosed()) this.serveOn(this.connection, entry);
  }

  subscribe(subject: string, handler: MessageHandler): void {
    const entry = { subject, handler };
    this.listeners.push(entry);
    if (this.connection && !this.connection.isClosed()) this.listenOn(this.connection, entry);
  }

  private listenOn(nc: NatsConnection, entry: { subject: string; handler: MessageHandler }): void {
    const subscription = nc.subscribe(entry.subject, {
      callback: (error, msg) => {
        if (error) {
          this.logger.warn({ err: error }, 'bus: subscription error');
          return;
        }
        try {
          entry.handler(msg.subject, msg.data);
        } catch (thrown) {
          this.logger.error({ err: thrown, subject: msg.subject }, 'bus: message handler threw');
        }
      },
    });
    this.subscriptions.push(subscription);
  }

  async publish(subject: string, data: Uint8Array, id: string): Promise<void> {
    const nc = this.connection;
    if (!nc || this.current !== 'connected') throw new Error(`bus not connected (${this.current})`);
    const h = headers();
    h.set('Nats-Msg-Id', id);
    nc.publish(subject, data, { headers: h });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('bus publish timed out')), this.options.publishTimeoutMs ?? 2000);
    });
    try {
      await Promise.race([nc.flush(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  state(): BusState {
    return this.current;
  }

  onConnected(listener: () => void): void {
    this.connectedListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.retry) {
      clearTimeout(this.retry.timer);
      this.retry.resolve();
    }
    await this.connecting?.catch(() => undefined);
    const nc = this.connection;
    this.current = 'closed';
    if (nc && !nc.isClosed()) {
      // drain() lets in-flight requests get their answers; a dead broker makes it fail, then close.
      await nc.drain().catch(() => nc.close());
    }
  }
}
