import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What the guard answers an upgrade that carries a body (the body went to the upgrade, not to the request). */
const BODY_REFUSED = JSON.stringify({
  error: { code: 'BAD_REQUEST', message: 'A request with a body cannot ask for a protocol upgrade.' },
});

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
  app.addHook('onRoute', (route) => {
    if (route.websocket === true) webSocketPaths.add(pathnameOf(route.url));
  });
  app.addHook('onReady', (done) => {
    const server = app.server;
    const plugin = server.listeners('upgrade') as UpgradeListener[];
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const isWebSocket =
        req.method === 'GET' &&
        /\bwebsocket\b/i.test(req.headers.upgrade ?? '') &&
        webSocketPaths.has(pathnameOf(req.url)) &&
        plugin.length > 0;
      if (isWebSocket) {
        for (const listener of plugin) listener.call(server, req, socket, head);
        return;
      }
      answerPlain(server, req, socket);
    });
    done();
  });
}

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
    socket.write(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(BODY_REFUSED)}\r\nConnection: close\r\n\r\n${BODY_REFUSED}`,
    );
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
