import fastifyWebsocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { AppError } from '../../errors.js';
import { installAuth, userCheck } from '../auth.js';
import type { FastifyInstance } from 'fastify';
import type { HttpContext, RouteModule } from '../context.js';

/** Frames from clients are tiny activity notes; anything larger is refused by ws. */
const MAX_PAYLOAD = 4096;
/** How often open sockets are checked against the revocation view (in memory, no query). */
const REVOCATION_CHECK_MS = 1000;
/** Close code for a socket whose session ended (4000-4999 is the application range). */
export const SESSION_REVOKED_CLOSE = 4001;
/** Close code for a socket refused because its user already has PRESENCE_MAX_CONNECTIONS_PER_USER open. */
export const TOO_MANY_CONNECTIONS_CLOSE = 4008;

interface SocketState {
  answered: boolean;
  readonly sessionId: string;
  readonly userId: number;
  readonly sessionCreatedAt: number;
}

/**
 * `GET /ws`: the presence WebSocket. The upgrade needs a valid access token
 * (cookie, verified as on HTTP routes) and an `Origin`, when sent, in
 * ALLOWED_ORIGINS; otherwise it is answered 401/403 and never upgraded. The
 * server pings every PRESENCE_PING_INTERVAL_MS and terminates a socket that
 * did not answer the previous ping. Every client frame counts as activity.
 * A socket whose session is revoked (logout, revoke, logout-all-users) is
 * closed with 4001 within a second of this instance's revocation view
 * learning of it, so a logged-out user does not stay online. A user may hold
 * PRESENCE_MAX_CONNECTIONS_PER_USER sockets across all instances (default
 * 20); a socket beyond that is closed at once with 4008 (the older ones stay).
 */
export const wsRoutes: RouteModule = async (root, ctx) => {
  installAuth(root);
  // Its own scope: @fastify/websocket hooks every request of the scope it is registered in.
  await root.register(async (app) => {
    await app.register(fastifyWebsocket, { options: { maxPayload: MAX_PAYLOAD } });
    socketRoute(app, ctx);
  });
};

function socketRoute(app: FastifyInstance, ctx: HttpContext): void {
  const presence = ctx.services.presence;
  const authenticate = userCheck(ctx);
  const alive = new Map<WebSocket, SocketState>();
  const view = ctx.services.auth.view;

  const pinger = setInterval(() => {
    for (const [socket, state] of alive) {
      if (!state.answered) {
        socket.terminate();
        continue;
      }
      state.answered = false;
      socket.ping();
    }
  }, ctx.config.presence.pingIntervalMs);
  pinger.unref();
  const revocationCheck = setInterval(() => {
    for (const [socket, state] of alive) {
      if (view.isRevoked(state.sessionId, state.userId, state.sessionCreatedAt)) {
        alive.delete(socket);
        socket.close(SESSION_REVOKED_CLOSE, 'session revoked');
      }
    }
  }, REVOCATION_CHECK_MS);
  revocationCheck.unref();
  app.addHook('onClose', async () => {
    clearInterval(pinger);
    clearInterval(revocationCheck);
  });

  // The same bytes go to thousands of sockets per tick: encode once.
  let lastText = '';
  let lastBytes = Buffer.alloc(0);
  const encode = (text: string): Buffer => {
    if (text !== lastText) {
      lastText = text;
      lastBytes = Buffer.from(text, 'utf8');
    }
    return lastBytes;
  };

  app.get(
    '/ws',
    {
      websocket: true,
      schema: { hide: true },
      preValidation: async (request, reply) => {
        const origin = request.headers.origin;
        const allowed = ctx.config.allowedOrigins;
        if (origin !== undefined && !allowed.includes('*') && !allowed.includes(origin)) {
          throw new AppError('FORBIDDEN', 'The request origin is not allowed.');
        }
        await authenticate(request);
      },
    },
    (socket, request) => {
      const auth = request.auth as NonNullable<typeof request.auth>;
      const cap = ctx.config.presence.maxConnectionsPerUser;
      // Cheap local check first; the cluster-wide count comes back from connect().
      if (presence.localConnectionsOf(auth.userId) >= cap) {
        socket.close(TOO_MANY_CONNECTIONS_CLOSE, 'too many connections');
        return;
      }
      const state: SocketState = { answered: true, sessionId: auth.sessionId, userId: auth.userId, sessionCreatedAt: auth.sessionCreatedAt };
      alive.set(socket, state);
      socket.on('pong', () => {
        state.answered = true;
      });
      const handle = presence.connect(
        auth.userId,
        {
          send: (text) => {
            if (socket.readyState === socket.OPEN) socket.send(encode(text), { binary: false });
          },
        },
        auth.role,
      );
      handle.then(
        (opened) => {
          if (opened.activeConnections > cap) {
            alive.delete(socket);
            socket.close(TOO_MANY_CONNECTIONS_CLOSE, 'too many connections');
            return;
          }
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'hello', user_id: auth.userId }));
        },
        (error: unknown) => {
          request.log.error({ err: error }, 'presence: connect failed');
          socket.close(1011, 'presence unavailable');
        },
      );
      socket.on('message', () => {
        void handle.then((h) => h.activity(), () => undefined);
      });
      socket.on('close', () => {
        alive.delete(socket);
        void handle
          .then((h) => h.close())
          .catch((error: unknown) => request.log.warn({ err: error }, 'presence: disconnect failed'));
      });
    },
  );
}
