import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { sendError } from './error-handler.js';

/** Seconds a client is told to wait (Retry-After) when it reaches an instance that is shutting down. */
const DRAINING_RETRY_AFTER = '5';

/**
 * A server socket as Node's HTTP server keeps it: `_httpMessage` is the
 * response it is writing now (Node's own field, set when the response gets
 * the socket and cleared when it finishes; `server.closeIdleConnections()`
 * reads the same field). Reading it costs nothing per request; tracking
 * responses ourselves cost a second `request` listener (emit then clones
 * the listener list on every request) and a property on every socket.
 */
type ServerSocket = Socket & { readonly _httpMessage?: ServerResponse | null };

/**
 * Every connection of one HTTP server, for a bounded shutdown (issue 16 #2).
 * Node's `server.close()` waits for every socket, and a client holding a
 * half-sent body or an upgraded socket would hold it for ever; this knows
 * each socket (upgraded ones included) and which still has a request in
 * flight, so a drain can close the idle ones at once and the rest at the
 * grace deadline.
 */
export class ConnectionDrain {
  private readonly sockets = new Set<ServerSocket>();
  private isDraining = false;

  /** True once drain() began: new requests are answered 503 and every connection closes after its answer. */
  get draining(): boolean {
    return this.isDraining;
  }

  /**
   * Starts tracking a server's connections; call once, before it listens.
   * Requests that arrive once the drain began are answered by the Fastify
   * hook (`install`) with `Connection: close`; the early answers answer
   * nothing while draining.
   */
  attach(server: Server): void {
    server.on('connection', (socket: ServerSocket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /**
   * Fastify onRequest hook: while draining, answer 503 SERVICE_UNAVAILABLE
   * with Retry-After and close the connection, so nothing new starts (a
   * trigger that would run a job included).
   */
  install(app: FastifyInstance): void {
    // Named: the early answers' hook check (EARLY_PATH_COVERS) knows hooks by name.
    const refuseWhileDraining: onRequestHookHandler = (_request, reply, done) => {
      if (!this.draining) {
        done();
        return;
      }
      reply.header('retry-after', DRAINING_RETRY_AFTER).header('connection', 'close');
      void sendError(reply, 503, 'SERVICE_UNAVAILABLE', 'This instance is shutting down; retry on another.');
    };
    app.addHook('onRequest', refuseWhileDraining);
  }

  /** Open connections (upgraded and WebSocket ones included). */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Stops the server: `close` (Fastify's close, which stops listening and
   * closes idle connections) runs at once; responses in flight close their
   * connection when they finish; whatever is still open after `graceMs`
   * (stalled bodies, silent upgrades, WebSockets that ignore the close
   * frame) is destroyed. Resolves with the number of connections destroyed.
   */
  async drain(close: () => Promise<void>, graceMs: number): Promise<number> {
    this.isDraining = true;
    // A response still to be written closes its connection when done.
    for (const socket of this.sockets) {
      const res = socket._httpMessage;
      if (res != null && !res.headersSent) res.shouldKeepAlive = false;
    }
    const closed = close();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), graceMs);
    });
    const first = await Promise.race([closed.then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    let forced = 0;
    if (first === 'deadline') {
      for (const socket of this.sockets) {
        socket.destroy();
        forced += 1;
      }
      this.sockets.clear();
    }
    await closed;
    return forced;
  }
}
