import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, onResponseHookHandler, onSendHookHandler } from 'fastify';

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The handshake checks of the `ws` library, which would answer a failure in plain text. */
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;
const WS_PROTOCOLS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

function validHandshake(req: IncomingMessage): boolean {
  const version = req.headers['sec-websocket-version'];
  const protocols = req.headers['sec-websocket-protocol'];
  return (
    WS_KEY.test(req.headers['sec-websocket-key'] ?? '') &&
    (version === '13' || version === '8') &&
    (protocols === undefined || WS_PROTOCOLS.test(protocols))
  );
}

/** A whole answer for a socket no HTTP machinery owns any more: the envelope, then close. */
function rawAnswer(status: 400, message: string): string {
  const body = JSON.stringify({ error: { code: 'BAD_REQUEST', message } });
  return `HTTP/1.1 ${status} Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function pathnameOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0] ?? '/';
  // Routes answer with and without the trailing slash.
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Owns the server's `upgrade` event (issue 16 #1). Node hands every request
 * with `Connection: Upgrade` to the upgrade listeners, detached from the
 * HTTP parser: whoever takes it must close the socket, or it stays in
 * CLOSE-WAIT for ever. @fastify/websocket's listener sits on the shared
 * server but closes sockets only for routes in its own scope, so a
 * `Connection: Upgrade` to /health leaked a descriptor per request.
 *
 * With the guard, only a `GET` WebSocket upgrade to a WebSocket route goes
 * to the plugin (which answers 101, or 401/403 and closes). Every other
 * upgrade (h2c, `websocket` on /health, any method) is answered as the plain
 * HTTP/1.1 request it also is, through the server's ordinary request path,
 * with `Connection: close`, and its socket is closed after the answer. One
 * carrying a body gets 400 (its body was handed to the upgrade, not to the
 * request). Installed on ready, after every plugin has added its listener.
 */
export function guardUpgrades(app: FastifyInstance): void {
  const webSocketPaths = new Set<string>();
  // Hooks on the WebSocket routes only, so other routes pay nothing for them.
  app.addHook('onRoute', (route) => {
    if (route.websocket !== true) return;
    webSocketPaths.add(pathnameOf(route.url));
    route.onResponse = [...hooksOf(route.onResponse), closeUpgradeSocket];
    route.onSend = [...hooksOf(route.onSend), envelopeForPlainGet];
  });
  app.addHook('onReady', (done) => {
    const server = app.server;
    const plugin = server.listeners('upgrade') as UpgradeListener[];
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const isWebSocket =
        req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket' && webSocketPaths.has(pathnameOf(req.url)) && plugin.length > 0;
      if (!isWebSocket) {
        answerPlain(server, req, socket);
      } else if (!validHandshake(req)) {
        socket.on('error', () => socket.destroy());
        socket.write(rawAnswer(400, 'Invalid WebSocket handshake: Sec-WebSocket-Key, -Version (13) or -Protocol.'));
        (socket as Socket).destroySoon();
      } else {
        for (const listener of plugin) listener.call(server, req, socket, head);
      }
    });
    done();
  });
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * The plugin closes the socket in an onResponse hook of its own, but only
 * when its own onRequest hook ran: a root onRequest hook that answers first
 * (bad input, draining) skipped it and leaked the socket. An upgrade request
 * whose reply ends here gets its socket closed once the answer is out (for
 * an accepted WebSocket this runs only when the socket has closed anyway).
 */
const closeUpgradeSocket: onResponseHookHandler = (request, _reply, done) => {
  // Node sets `upgrade` on requests it handed to the 'upgrade' event (not in @types/node 20).
  if ((request.raw as IncomingMessage & { upgrade?: boolean }).upgrade === true) (request.raw.socket as Socket | null)?.destroySoon();
  done();
};

/** The plugin answers a plain GET on a WebSocket route 404 with an empty body: give it the envelope. */
const envelopeForPlainGet: onSendHookHandler = (request, reply, payload, done) => {
  if (reply.statusCode !== 404 || (payload !== '' && payload != null)) {
    done(null, payload);
    return;
  }
  reply.type('application/json; charset=utf-8');
  const url = request.routeOptions.url ?? request.url;
  done(null, JSON.stringify({ error: { code: 'ROUTE_NOT_FOUND', message: `${url} only answers WebSocket upgrades.` } }));
};

/** Answers an upgrade request as an ordinary request on a connection that closes afterwards. */
function answerPlain(server: Server, req: IncomingMessage, socket: Duplex): void {
  // Node removed its own listeners from the socket: errors and the client's end are ours now.
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.destroy());
  // Ends our side and destroys the socket once the answer is written, whatever the client does.
  const close = (): void => {
    if (!socket.destroyed) (socket as Socket).destroySoon();
  };
  if (hasBody(req)) {
    socket.write(rawAnswer(400, 'A request with a body cannot ask for a protocol upgrade.'));
    close();
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', close);
  res.once('close', close);
  server.emit('request', req, res);
}
