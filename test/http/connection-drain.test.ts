import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ConnectionDrain } from '../../src/http/shutdown.js';

/** One keep-alive GET; resolves with the status, the Connection header and whether the server then closed the socket. */
function get(port: number, agent: import('node:http').Agent): Promise<{ status: number; connection: string | undefined; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      const closed = new Promise<void>((done) => res.socket.once('close', () => done()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, closed }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('ConnectionDrain', () => {
  it('tells a response still in flight when the drain starts to close its connection, and keeps idle ones from lingering', async () => {
    const drain = new ConnectionDrain();
    const waiting: ServerResponse[] = [];
    let arrived: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const server = createServer((_req, res) => {
      waiting.push(res);
      arrived();
    });
    drain.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });

    const answer = get(port, agent);
    await inFlight;
    assert.equal(drain.connections, 1);
    const drained = drain.drain(() => new Promise<void>((resolve) => server.close(() => resolve())), 5_000);
    // The handler answers after the drain began: the answer says Connection: close and the server closes the socket.
    const res = waiting[0];
    assert.ok(res);
    res.end('ok');
    const got = await answer;
    assert.equal(got.status, 200);
    assert.equal(got.connection, 'close');
    await got.closed;
    assert.equal(await drained, 0, 'nothing had to be destroyed at the deadline');
    assert.equal(drain.connections, 0);
    agent.destroy();
  });
});
